"""The ingest sink: store a batch, run detection on it, turn anomalies into tickets."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DetectionEngine
from domain import Anomaly, DeviceType, FaultCode, Reading
from domain.faults import SELF_CLEARING
from domain.wire import DeadLetter
from faultline.device_catalog import CatalogWatch
from faultline.directory import DeviceDirectory
from fieldservice import flows
from fieldservice.config import FieldServiceConfig
from ingest.messages import Batch
from storage import dead_letters
from storage.dead_letters import Retention
from storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)


class Pipeline:
    """Called by the ingest worker for every batch; raising means "this batch failed" (the
    worker retries it, or splits it when the failure is the data's).

    What detection found is kept until it is recorded: detectors skip readings they have
    seen, so a batch stored again after the database failed would otherwise lose the
    anomalies of its first attempt. One device's detector raising never stops storage or
    the other devices: that device's detection state is reset, and the event logged and
    counted (`detector_resets`).
    """

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
        after_detection: Callable[[Sequence[Reading], DetectionEngine], None] | None = None,
        dead_letter_retention: Retention | None = None,
        catalog: CatalogWatch | None = None,
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
        # Told once a batch's readings went through detection (closure asks the detectors
        # whether a repaired fault has cleared).
        self.after_detection = after_detection
        # The device-model catalog: the engine gets it whenever it changed.
        self.catalog = catalog
        # Applied whenever dead letters are stored (the retention schedule applies it too).
        self.dead_letter_retention = dead_letter_retention
        self._registered: set[str] = set()
        self.tickets_opened = 0
        self.anomalies_seen = 0
        self.detector_resets = 0
        # Anomalies found but not yet recorded (the database failed after detection).
        self._unrecorded: list[Anomaly] = []
        # The last batch stored and detected, so a retry does not write it again.
        self._detected: Batch | None = None
        # Self-clearing faults whose alarm closed, not yet told to field service.
        self._cleared: list[tuple[str, FaultCode, float]] = []

    def __call__(self, batch: Batch) -> None:
        if self._detected is not batch:
            # Owners who turned proactive monitoring off get no detection (so no ticket or
            # alert); asked before storing, so detection follows the write at once.
            unmonitored = self.directory.unmonitored()
            if batch.readings:
                self.telemetry.write(batch.readings)
                if self.on_readings is not None:
                    self.on_readings(batch.readings)
            self._unrecorded.extend(self._detect(batch, unmonitored))
            self._cleared.extend(
                item for item in self.engine.take_cleared() if item[1] in SELF_CLEARING
            )
            if self.after_detection is not None and batch.readings:
                self.after_detection(batch.readings, self.engine)
            self._detected = batch
        if self._unrecorded or batch.dead_letters or self._cleared:
            self._record(batch.dead_letters, self._unrecorded, self._cleared)
            self.anomalies_seen += len(self._unrecorded)
            self._unrecorded = []
            self._cleared = []
        self._detected = None
        if self.after_batch is not None:
            self.after_batch(self.engine)

    def _record(
        self,
        letters: Sequence[DeadLetter],
        anomalies: list[Anomaly],
        cleared: Sequence[tuple[str, FaultCode, float]] = (),
    ) -> None:
        with self.sessions.begin() as session:
            if letters:
                dead_letters.add_many(
                    session=session, letters=letters, retention=self.dead_letter_retention
                )
            opened = []
            for anomaly in anomalies:
                _, created = flows.handle_anomaly(
                    session=session, anomaly=anomaly, now=time.time(), config=self.fieldservice
                )
                if created:
                    opened.append(anomaly)
            for device_id, fault_code, _ in cleared:
                # A fault that clears by itself before anyone visits needs no visit.
                flows.fault_cleared(
                    session=session,
                    device_id=device_id,
                    fault_code=fault_code.value,
                    now=time.time(),
                    config=self.fieldservice,
                )
        # Counted once the transaction committed: a retry must not count them twice.
        self.tickets_opened += len(opened)
        for anomaly in opened:
            log.info("ticket opened: %s %s", anomaly.device_id, anomaly.fault_code)

    def _detect(self, batch: Batch, unmonitored: frozenset[str]) -> list[Anomaly]:
        if self.catalog is not None:
            specs = self.catalog.changed()
            if specs is not None:
                for error in self.engine.set_model_specs(specs):
                    log.warning("%s; its devices keep their type's profile", error)
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
            try:
                found.extend(engine.process(device_type, reading))
            except Exception:  # one device's detectors: reset, logged and counted
                self._reset(reading.device_id)
        for event in batch.events:
            device_type = lookup(event.device_id)
            if device_type is None or event.device_id in unmonitored:
                continue
            try:
                found.extend(engine.process_event(device_type, event))
            except Exception:
                self._reset(event.device_id)
        for status in batch.statuses:
            device_type = lookup(status.device_id)
            if device_type is None or status.device_id in unmonitored:
                continue
            try:
                found.extend(
                    engine.process_status(device_type, status.device_id, online=status.online)
                )
            except Exception:
                self._reset(status.device_id)
        # Event time moves on once per batch: offline devices, expiring error codes and
        # the fleet model's hourly scoring happen here.
        found.extend(a for a in engine.advance() if a.device_id not in unmonitored)
        return found

    def _reset(self, device_id: str) -> None:
        """A device's detection raised: forget its state so it learns afresh, and say so."""
        self.detector_resets += 1
        log.exception("detection failed on %s; its detectors are reset and learn afresh", device_id)
        self.engine.reset(device_id)
        self._registered.discard(device_id)

    def _register(self, device_id: str, device_type: DeviceType) -> None:
        """Tell the engine the device's model once (the fleet model groups by it)."""
        model = self.directory.model(device_id)
        if model is not None:
            self.engine.register(device_id, device_type, model=model)
            self._registered.add(device_id)
