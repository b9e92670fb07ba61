"""The service's retention run: compacts the embedded telemetry store on a schedule.

At start and then every `every_s` seconds, readings older than `raw_days` (event time,
before the newest reading) become hourly aggregates. InfluxDB needs none of this: its
bucket's retention period and a downsampling task do the same job there.
"""

from __future__ import annotations

import logging
import threading

from storage.embedded_retention import CompactionReport
from storage.embedded_telemetry import EmbeddedTelemetryStore

log = logging.getLogger(__name__)


class RetentionSchedule:
    """A daemon thread calling `store.compact(raw_days)`; `stop()` waits for a run to end."""

    def __init__(self, store: EmbeddedTelemetryStore, *, raw_days: float, every_s: float) -> None:
        self.store = store
        self.raw_days = raw_days
        self.every_s = every_s
        self.runs = 0
        self.failures = 0
        self.last: CompactionReport | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telemetry-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self) -> CompactionReport:
        report = self.store.compact(self.raw_days)
        self.runs += 1
        self.last = report
        if report.readings_folded:
            log.info(
                "retention: folded %d readings of %d devices older than %s into hourly rows",
                report.readings_folded,
                report.devices,
                report.cutoff,
            )
        return report

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # logged and counted; the next run tries again
                self.failures += 1
                log.exception("retention run failed; retrying in %.0fs", self.every_s)
            self._stop.wait(self.every_s)
