"""The service's retention run: compacts the embedded telemetry store and trims the dead
letters, at start and then on a schedule.

Telemetry: readings older than `raw_days` (event time, before the newest reading) become
hourly aggregates. InfluxDB needs none of this: its bucket's retention period and a
downsampling task do the same job there. Dead letters: those past the age and count limits
are deleted (ingest applies the same limits whenever it stores new ones).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from storage import dead_letters
from storage.dead_letters import Retention
from storage.embedded_retention import CompactionReport
from storage.embedded_telemetry import EmbeddedTelemetryStore

log = logging.getLogger(__name__)


class DeadLetterTrim:
    """Deletes the dead letters outside `retention`, in a transaction of its own."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        retention: Retention,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.retention = retention
        self.clock = clock

    def __call__(self) -> int:
        with self.sessions.begin() as session:
            return dead_letters.trim(session=session, retention=self.retention, now=self.clock())


class RetentionSchedule:
    """A daemon thread running `run_once()` every `every_s`; `stop()` waits for a run to end.

    `store` (the embedded telemetry store) is compacted when given; `dead_letters` is run
    when given."""

    def __init__(
        self,
        store: EmbeddedTelemetryStore | None,
        *,
        raw_days: float,
        every_s: float,
        dead_letters: DeadLetterTrim | None = None,
    ) -> None:
        self.store = store
        self.raw_days = raw_days
        self.every_s = every_s
        self.dead_letters = dead_letters
        self.runs = 0
        self.failures = 0
        self.dead_letters_removed = 0
        self.last: CompactionReport | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self) -> CompactionReport | None:
        report = None
        if self.store is not None:
            report = self.store.compact(self.raw_days)
            self.last = report
            if report.readings_folded:
                log.info(
                    "retention: folded %d readings of %d devices older than %s into hourly rows",
                    report.readings_folded,
                    report.devices,
                    report.cutoff,
                )
        if self.dead_letters is not None:
            removed = self.dead_letters()
            self.dead_letters_removed += removed
            if removed:
                log.info("retention: deleted %d dead letters past the age or count limit", removed)
        self.runs += 1
        return report

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # logged and counted; the next run tries again
                self.failures += 1
                log.exception("retention run failed; retrying in %.0fs", self.every_s)
            self._stop.wait(self.every_s)
