"""Delivering the outbox: claim due messages, send each through its channel, record the outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from fieldservice.errors import DeliveryError
from fieldservice.notifications import outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Envelope:
    """What a channel needs to send one message; `key` must travel with it for dedupe."""

    notification_id: int
    key: str
    kind: str
    audience: str
    channel: str
    recipient: str
    subject: str
    body: str
    language: str
    attempt: int
    payload: Mapping[str, Any] = field(default_factory=dict)
    ticket_id: int | None = None
    customer_id: str | None = None
    technician_id: str | None = None


class Channel(Protocol):
    """Sends one envelope; raises `DeliveryError` (retryable or not) when it cannot."""

    def send(self, envelope: Envelope) -> None: ...


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0


class Deliverer:
    """One pass of the notification worker at a time: `run_once()` until it returns 0."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        channels: Mapping[str, Channel],
        worker_id: str,
        lease_s: float = 60.0,
        batch: int = 20,
        max_attempts: int = 8,
        backoff_base_s: float = 2.0,
        backoff_cap_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.worker_id = worker_id
        self.lease_s = lease_s
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.clock = clock
        self.stats = DeliveryStats()

    def run_once(self) -> int:
        """Deliver one batch of due messages; returns how many were attempted."""
        with self.sessions.begin() as session:
            ids = outbox.claim(
                session=session,
                now=self.clock(),
                worker=self.worker_id,
                lease_s=self.lease_s,
                limit=self.batch,
            )
        for notification_id in ids:
            self._deliver(notification_id)
        return len(ids)

    def _deliver(self, notification_id: int) -> None:
        with self.sessions() as session:
            row = outbox.get(session=session, notification_id=notification_id)
            if row is None:
                return
            if (
                row.status != outbox.Status.SENDING.value
                or row.leased_by != self.worker_id
                or (row.lease_until or 0.0) <= self.clock()
            ):
                # Our lease on it ran out while earlier messages of the batch were slow:
                # another worker may own it now, so sending it too would duplicate.
                return
            envelope = Envelope(
                notification_id=row.id,
                key=row.idempotency_key,
                kind=row.kind,
                audience=row.audience,
                channel=row.channel,
                recipient=row.recipient,
                subject=row.subject,
                body=row.body,
                language=row.language,
                attempt=row.attempts,
                payload=dict(row.payload or {}),
                ticket_id=row.ticket_id,
                customer_id=row.customer_id,
                technician_id=row.technician_id,
            )
        try:
            channel = self.channels.get(envelope.channel)
            if channel is None:
                raise DeliveryError(
                    f"no {envelope.channel!r} channel is configured on this worker",
                    retryable=True,
                )
            channel.send(envelope)
        except DeliveryError as exc:
            self._failed(envelope, str(exc), exc.retryable)
            return
        except Exception as exc:  # a channel bug: recorded on the row and retried, not hidden
            log.exception("channel %s crashed on notification %s", envelope.channel, envelope.key)
            self._failed(envelope, f"{type(exc).__name__}: {exc}", True)
            return
        with self.sessions.begin() as session:
            outbox.mark_sent(session=session, notification_id=notification_id, now=self.clock())
        self.stats.sent += 1

    def _failed(self, envelope: Envelope, error: str, retryable: bool) -> None:
        with self.sessions.begin() as session:
            status = outbox.mark_failed(
                session=session,
                notification_id=envelope.notification_id,
                worker=self.worker_id,
                now=self.clock(),
                error=error,
                retryable=retryable,
                max_attempts=self.max_attempts,
                backoff_base_s=self.backoff_base_s,
                backoff_cap_s=self.backoff_cap_s,
            )
        if status is outbox.Status.DEAD:
            self.stats.dead += 1
            log.error(
                "notification %s (%s to %s) given up after %d attempts: %s",
                envelope.key,
                envelope.channel,
                envelope.recipient,
                envelope.attempt,
                error,
            )
        else:
            self.stats.retried += 1
            log.warning(
                "notification %s (%s to %s) attempt %d failed, will retry: %s",
                envelope.key,
                envelope.channel,
                envelope.recipient,
                envelope.attempt,
                error,
            )
