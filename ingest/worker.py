"""Drains the inbox in batches (by size and age), hands each to the sink, then acknowledges.

The sink stores the batch (telemetry, dead letters, what detection makes of it). If it
fails, the batch is retried with backoff and nothing is acknowledged, so the broker keeps
the messages; ingest never drops a batch because a store was briefly away.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial

from ingest.messages import Batch, RawMessage
from ingest.stats import IngestStats
from ingest.validation import Validator

log = logging.getLogger(__name__)

Sink = Callable[[Batch], None]
Acker = Callable[[Sequence[RawMessage]], None]


class IngestWorker:
    """One thread: collect up to `batch_size` messages or `max_age_s`, validate, sink, ack."""

    def __init__(
        self,
        *,
        inbox: queue.Queue[RawMessage],
        validator: Validator,
        sink: Sink,
        ack: Acker,
        stats: IngestStats,
        batch_size: int = 1000,
        max_age_s: float = 0.2,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.inbox = inbox
        self.validator = validator
        self.sink = sink
        self.ack = ack
        self.stats = stats
        self.batch_size = batch_size
        self.max_age_s = max_age_s
        self.max_backoff_s = max_backoff_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is in the inbox, then stop."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            raws = self._collect()
            if raws:
                self._deliver(raws)
            elif self._stop.is_set():
                return

    def _collect(self) -> list[RawMessage]:
        try:
            first = self.inbox.get(timeout=0.1)
        except queue.Empty:
            return []
        raws = [first]
        deadline = time.monotonic() + self.max_age_s
        while len(raws) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                raws.append(self.inbox.get(timeout=remaining))
            except queue.Empty:
                break
        return raws

    def _deliver(self, raws: list[RawMessage]) -> None:
        batch = self._validate(raws)
        if batch is None or not self._retrying(lambda: self.sink(batch), "storing", len(raws)):
            log.warning("stopping with a batch unstored; the broker will redeliver it")
            return
        self.ack(raws)
        self.stats.add(batches=1, stored=len(batch.readings))

    def _validate(self, raws: list[RawMessage]) -> Batch | None:
        """Validate every message; a failing device lookup (database away) is retried.

        `Validator.add_to` looks the device up before it changes any state, so retrying
        the message that raised neither loses nor double-counts the ones before it.
        """
        batch = Batch()
        for raw in raws:
            if not self._retrying(partial(self.validator.add_to, batch, raw), "validating", 1):
                return None
        return batch

    def _retrying(self, step: Callable[[], None], what: str, size: int) -> bool:
        """Run `step` until it succeeds (True) or the worker is told to stop (False)."""
        backoff = 0.05
        while True:
            try:
                step()
                return True
            except Exception:  # the sink's failures are many (DB, disk); all mean "retry"
                self.stats.add(sink_failures=1)
                if self._stop.is_set():
                    return False
                log.exception("%s %d message(s) failed; retrying in %.2fs", what, size, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
