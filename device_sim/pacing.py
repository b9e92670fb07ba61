"""Publishing no faster than the service being fed can take in: the simulator reads the
service's ingest counters and holds back while too many messages are outstanding.

A broker queues what a slow subscriber has not taken, and past its limit (Mosquitto's
`max_queued_messages`, 1000 by default) drops QoS 1 messages after acknowledging them to
the publisher: a simulator that only waits for PUBACKs can overrun the service it feeds
and lose most of the fleet's readings without noticing. The pacer keeps the number sent
but not yet taken in by the service (validated, stored, rejected, or known lost from
`seq` gaps) under `max_outstanding`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from device_sim.publisher import SimulatorError

log = logging.getLogger(__name__)


class Gate(Protocol):
    """What the publisher asks before sending more (an `IngestPacer`)."""

    def behind(self, sent: int) -> bool: ...

    def wait(self, sent: int, idle: Callable[[], None] | None = None) -> None: ...

# Every message ingest has dealt with, one way or another.
_TAKEN = ("accepted", "duplicates", "rejected_total", "events", "status_changes")


def taken_in(stats: Mapping[str, Any]) -> int:
    """Messages the service has dealt with, from its `/api/v1/ingest/stats` body."""
    total = sum(int(stats.get(name) or 0) for name in _TAKEN)
    return total + max(int(stats.get("missing_readings") or 0), 0)


class IngestPacer:
    """`behind(sent)` says whether to hold back; `wait(sent)` returns once the service has
    taken in enough (`idle` is called while waiting, e.g. to read PUBACKs).

    >>> pacer = IngestPacer(read_taken=lambda: 0, max_outstanding=10)
    >>> pacer.behind(5), pacer.behind(11)
    (False, True)
    """

    def __init__(
        self,
        *,
        read_taken: Callable[[], int],
        max_outstanding: int = 800,
        poll_s: float = 0.05,
        stall_s: float = 30.0,
    ) -> None:
        self.read_taken = read_taken
        self.max_outstanding = max_outstanding
        self.poll_s = poll_s
        self.stall_s = stall_s
        self.baseline = read_taken()
        self.taken = 0
        self.waits = 0
        self.waited_s = 0.0

    def behind(self, sent: int) -> bool:
        return sent - self.taken > self.max_outstanding

    def wait(self, sent: int, idle: Callable[[], None] | None = None) -> None:
        if not self.behind(sent):
            return
        self.waits += 1
        started = time.monotonic()
        progress_at = started
        while True:
            taken = self.read_taken() - self.baseline
            now = time.monotonic()
            if taken > self.taken:
                self.taken, progress_at = taken, now
            if sent - self.taken <= self.max_outstanding:
                break
            if now - progress_at > self.stall_s:
                log.warning(
                    "the service took in nothing for %.0f s (%d messages outstanding); "
                    "publishing on",
                    self.stall_s,
                    sent - self.taken,
                )
                self.taken = sent - self.max_outstanding
                break
            if idle is not None:
                idle()
            time.sleep(self.poll_s)
        self.waited_s += time.monotonic() - started


def service_pacer(base_url: str, token: str, *, max_outstanding: int = 800) -> IngestPacer:
    """A pacer reading `{base_url}/api/v1/ingest/stats` with the operator token."""
    client = httpx.Client(
        base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=10
    )

    def read_taken() -> int:
        try:
            response = client.get("/api/v1/ingest/stats")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SimulatorError(f"cannot read the service's ingest stats: {exc}") from exc
        return taken_in(response.json())

    return IngestPacer(read_taken=read_taken, max_outstanding=max_outstanding)
