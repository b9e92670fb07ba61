"""Drains the inbox in batches (by size and age), hands each to the sink, then acknowledges.

The sink stores the batch (telemetry, dead letters, what detection makes of it). Its
failures are of two kinds, told apart by `is_transient`:
- transient (the database or InfluxDB away, a locked file, a full disk): the batch is
  retried with backoff and nothing is acknowledged, so the broker keeps the messages;
- permanent (a value the store cannot hold, a bug one message triggers): retrying cannot
  help, so the batch is split in halves until the message that fails is alone; that one
  is dead-lettered with the reason (`unstorable`) and everything is acknowledged.
A batch that keeps failing "transiently" is split once as a probe: if half of it goes in,
the store is alive and the failure is the data's, so splitting carries on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial

from domain.wire import (
    Channel,
    DeadLetter,
    RejectReason,
    encode_event,
    encode_reading,
    topic_for,
)
from ingest.inbox import Inbox
from ingest.messages import Batch, RawMessage
from ingest.stats import IngestStats
from ingest.validation import Validator

log = logging.getLogger(__name__)

Sink = Callable[[Batch], None]
Acker = Callable[[Sequence[RawMessage]], None]
TransientTest = Callable[[BaseException], bool]


def network_errors_are_transient(exc: BaseException) -> bool:
    """The default test: OS-level failures (connection refused, timeouts, disk) pass with time."""
    return isinstance(exc, OSError)


class IngestWorker:
    """One thread: collect up to `batch_size` messages or `max_age_s`, validate, sink, ack."""

    def __init__(
        self,
        *,
        inbox: Inbox[RawMessage],
        validator: Validator,
        sink: Sink,
        ack: Acker,
        stats: IngestStats,
        batch_size: int = 1000,
        max_age_s: float = 0.2,
        max_backoff_s: float = 5.0,
        is_transient: TransientTest = network_errors_are_transient,
        probe_after: int = 5,
    ) -> None:
        self.inbox = inbox
        self.validator = validator
        self.sink = sink
        self.ack = ack
        self.stats = stats
        self.batch_size = batch_size
        self.max_age_s = max_age_s
        self.max_backoff_s = max_backoff_s
        self.is_transient = is_transient
        self.probe_after = probe_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is in the inbox, then stop."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def deliver(self, raws: list[RawMessage]) -> None:
        """Validate, store and acknowledge one batch now, on the caller's thread: for a
        caller that fetches its own batches (a partition of a log) instead of `start()`."""
        self._deliver(raws)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            raws = self._collect()
            if raws:
                self._deliver(raws)
            elif self._stop.is_set():
                return

    def _collect(self) -> list[RawMessage]:
        raws = self.inbox.take(self.batch_size, wait_s=0.1, gather_s=self.max_age_s)
        self.stats.inbox_depth = len(self.inbox)
        return raws

    def _deliver(self, raws: list[RawMessage]) -> None:
        self.stats.pending_since = min(raw.received_at for raw in raws)
        batch = self._validate(raws)
        if batch is None:
            log.warning("stopping with a batch unvalidated; the broker will redeliver it")
            return
        self.validator.end_batch()
        readings = len(batch.readings)
        refused = self._store(batch)
        if refused is None:
            log.warning("stopping with a batch unstored; the broker will redeliver it")
            return
        self.ack(raws)
        self.stats.add(batches=1, stored=readings - refused)
        self.stats.pending_since = None

    def _validate(self, raws: list[RawMessage]) -> Batch | None:
        """Validate every message; a failing device lookup (database away) is retried.

        `Validator.add_to` looks the device up before it changes any state, so retrying
        the message that raised neither loses nor double-counts the ones before it.
        """
        batch = Batch()
        for raw in raws:
            if not self._retrying(partial(self.validator.add_to, batch, raw), "validating"):
                return None
        return batch

    def _store(self, batch: Batch, *, store_works: bool = False) -> int | None:
        """Store `batch`, isolating what cannot be stored. Returns how many of its readings
        were dead-lettered as unstorable, or None when told to stop before it was stored.

        `store_works`: another part of the same batch was just stored, so a failure that
        persists here is this part's own, even if it looks transient."""
        failures = 0
        probing = True
        backoff = 0.05
        while True:
            try:
                self.sink(batch)
                return 0
            except Exception as exc:  # classified below: nothing is swallowed
                failures += 1
                self.stats.add(sink_failures=1)
                if not self.is_transient(exc):
                    return self._isolate(batch, exc)
                if probing and failures >= self.probe_after:
                    if len(batch) == 1 and store_works:
                        return self._dead_letter(batch, exc)
                    probed = self._probe(batch) if len(batch) > 1 else None
                    if probed is not None:
                        return probed
                    probing = False  # every part failed as well: the store is away
                if self._stop.is_set():
                    return None
                _log_retry("storing", len(batch), exc, failures, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    def _isolate(self, batch: Batch, exc: Exception) -> int | None:
        """A permanent failure: split down to the message that fails and dead-letter it."""
        if len(batch) == 1:
            return self._dead_letter(batch, exc)
        self.stats.add(batch_splits=1)
        log.warning(
            "storing %d messages failed for good (%s: %s); splitting the batch to isolate "
            "the message that fails",
            len(batch),
            type(exc).__name__,
            str(exc)[:200],
        )
        first, second = batch.split()
        refused_first = self._store(first)
        if refused_first is None:
            return None
        refused_second = self._store(second)
        return None if refused_second is None else refused_first + refused_second

    def _probe(self, batch: Batch) -> int | None:
        """After repeated transient failures, try each half once. If either goes in, the
        store works and the failure is the data's: the half that fails is isolated. None
        when both fail: the store itself is away."""
        first, second = batch.split()
        done_first = self._once(first)
        done_second = self._once(second)
        if done_first is None and done_second is None:
            return None
        self.stats.add(batch_splits=1)
        if done_first is None:
            done_first = self._store(first, store_works=True)
        if done_second is None:
            done_second = self._store(second, store_works=True)
        if done_first is None or done_second is None:
            return None
        return done_first + done_second

    def _once(self, batch: Batch) -> int | None:
        """One attempt: refused count (0 when stored), or None after a transient failure."""
        try:
            self.sink(batch)
            return 0
        except Exception as exc:
            self.stats.add(sink_failures=1)
            if self.is_transient(exc):
                return None
            return self._isolate(batch, exc)

    def _dead_letter(self, batch: Batch, exc: Exception) -> int | None:
        """Keep the one message the store refused as a dead letter, with the reason."""
        letter = self._letter_for(batch, exc)
        self.stats.add(unstorable=1)
        self.stats.reject(RejectReason.UNSTORABLE.value)
        log.error("dead-lettered a message the store refuses: %s (%s)", letter.topic, letter.detail)
        try:
            finished = self._store_letter(letter)
        except Exception as again:  # the dead letter itself cannot be stored either
            log.error(
                "could not keep even the dead letter of %s (%s); dropped it: %r",
                letter.topic,
                again,
                letter.payload[:200],
            )
            finished = True
        if finished is None:
            return None
        return len(batch.readings)

    def _store_letter(self, letter: DeadLetter) -> bool | None:
        """Store one dead letter, retrying while the store is away; raises if it is refused."""
        backoff = 0.05
        while True:
            try:
                self.sink(Batch(dead_letters=[letter]))
                return True
            except Exception as exc:
                if not self.is_transient(exc):
                    raise
                if self._stop.is_set():
                    return None
                time.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    def _letter_for(self, batch: Batch, exc: Exception) -> DeadLetter:
        detail = f"the store refused it: {type(exc).__name__}: {exc}"[:300]
        now = time.time()
        prefix = self.validator.prefix
        if batch.readings:
            reading = batch.readings[0]
            topic = topic_for(reading.device_id, Channel.TELEMETRY, prefix)
            payload = encode_reading(reading, include_device_id=True)
            device_id: str | None = reading.device_id
        elif batch.events:
            event = batch.events[0]
            topic = topic_for(event.device_id, Channel.EVENTS, prefix)
            payload, device_id = encode_event(event), event.device_id
        elif batch.statuses:
            status = batch.statuses[0]
            topic = topic_for(status.device_id, Channel.STATUS, prefix)
            payload = b"online" if status.online else b"offline"
            device_id = status.device_id
        else:
            # A dead letter the store refused: keep a plain account of it instead.
            old = batch.dead_letters[0]
            topic = old.topic.replace("\x00", "?")
            payload = old.payload[:1024]
            detail = f"{old.reason.value}: {old.detail}"[:200].replace("\x00", "?") + "; " + detail
            device_id = old.device_id.replace("\x00", "?") if old.device_id else None
        return DeadLetter(
            topic=topic,
            payload=payload,
            reason=RejectReason.UNSTORABLE,
            detail=detail.replace("\x00", "?"),
            received_at=now,
            device_id=device_id,
        )

    def _retrying(self, step: Callable[[], None], what: str) -> bool:
        """Run `step` until it succeeds (True) or the worker is told to stop (False)."""
        backoff = 0.05
        failures = 0
        while True:
            try:
                step()
                return True
            except Exception as exc:  # a lookup that fails means the database is away
                failures += 1
                self.stats.add(sink_failures=1)
                if self._stop.is_set():
                    return False
                _log_retry(what, 1, exc, failures, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)


def _log_retry(what: str, size: int, exc: Exception, failures: int, backoff: float) -> None:
    # The first failure with its traceback, then one line now and then: a long outage
    # must not flood the log.
    if failures == 1:
        log.warning("%s %d message(s) failed; retrying in %.2fs", what, size, backoff, exc_info=exc)
    elif failures % 20 == 0:
        log.warning(
            "%s %d message(s) still failing after %d attempts: %s: %s",
            what,
            size,
            failures,
            type(exc).__name__,
            str(exc)[:200],
        )
