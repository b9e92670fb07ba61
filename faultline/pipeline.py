"""The ingest sink: store a batch, run detection on it, turn anomalies into tickets."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DetectionEngine
from domain import Anomaly, DeviceType, Reading
from faultline.directory import DeviceDirectory
from fieldservice import flows
from fieldservice.config import FieldServiceConfig
from ingest.messages import Batch
from storage import dead_letters
from storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)


class Pipeline:
    """Called by the ingest worker for every batch; raising means "retry this batch"."""

    def __init__(
        self,
        *,
        telemetry: TelemetryStore,
        sessions: sessionmaker[Session],
        directory: DeviceDirectory,
        engine: DetectionEngine | None = None,
        fieldservice: FieldServiceConfig | None = None,
        on_readings: Callable[[Sequence[Reading]], None] | None = None,
        after_batch: Callable[[DetectionEngine], None] | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.fieldservice = fieldservice or FieldServiceConfig()
        # Told about every stored batch (field service watches repaired devices).
        self.on_readings = on_readings
        self.sessions = sessions
        self.directory = directory
        self.engine = engine or DetectionEngine()
        # Told after every finished batch (the detection checkpoint is taken there).
        self.after_batch = after_batch
        self._registered: set[str] = set()
        self.tickets_opened = 0
        self.anomalies_seen = 0
        # The batch being retried, with what detection made of it.
        self._pending: tuple[Batch, list[Anomaly]] | None = None

    def __call__(self, batch: Batch) -> None:
        # After a failure (the database was away) the worker hands the same batch again.
        # Detectors skip readings they have seen, so running them again would lose the
        # first attempt's anomalies: keep those, and do not rewrite stored telemetry.
        if self._pending is None or self._pending[0] is not batch:
            self._pending = None
            # Owners who turned proactive monitoring off get no detection (so no ticket or
            # alert); asked before storing, so detection follows the write at once.
            unmonitored = self.directory.unmonitored()
            if batch.readings:
                self.telemetry.write(batch.readings)
                if self.on_readings is not None:
                    self.on_readings(batch.readings)
            self._pending = (batch, self._detect(batch, unmonitored))
        anomalies = self._pending[1]
        if anomalies or batch.dead_letters:
            self._record(batch, anomalies)
        self._pending = None
        if self.after_batch is not None:
            self.after_batch(self.engine)

    def _record(self, batch: Batch, anomalies: list[Anomaly]) -> None:
        with self.sessions.begin() as session:
            if batch.dead_letters:
                dead_letters.add_many(session=session, letters=batch.dead_letters)
            for anomaly in anomalies:
                _, created = flows.handle_anomaly(
                    session=session, anomaly=anomaly, now=time.time(), config=self.fieldservice
                )
                self.tickets_opened += int(created)
                if created:
                    log.info("ticket opened: %s %s", anomaly.device_id, anomaly.fault_code)
        self.anomalies_seen += len(anomalies)

    def _detect(self, batch: Batch, unmonitored: frozenset[str]) -> list[Anomaly]:
        found: list[Anomaly] = []
        lookup, engine, registered = self.directory.lookup, self.engine, self._registered
        for reading in batch.readings:
            if reading.device_id in unmonitored:
                continue
            device_type = lookup(reading.device_id)
            if device_type is None:
                continue
            if reading.device_id not in registered:
                self._register(reading.device_id, device_type)
            found.extend(engine.process(device_type, reading))
        for event in batch.events:
            device_type = lookup(event.device_id)
            if device_type is not None and event.device_id not in unmonitored:
                found.extend(engine.process_event(device_type, event))
        for status in batch.statuses:
            device_type = lookup(status.device_id)
            if device_type is not None and status.device_id not in unmonitored:
                found.extend(
                    engine.process_status(device_type, status.device_id, online=status.online)
                )
        # Event time moves on once per batch: offline devices, expiring error codes and
        # the fleet model's hourly scoring happen here.
        found.extend(a for a in engine.advance() if a.device_id not in unmonitored)
        return found

    def _register(self, device_id: str, device_type: DeviceType) -> None:
        """Tell the engine the device's model once (the fleet model groups by it)."""
        model = self.directory.model(device_id)
        if model is not None:
            self.engine.register(device_id, device_type, model=model)
            self._registered.add(device_id)
