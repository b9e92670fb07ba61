"""The ingest sink: store a batch, run detection on it, turn anomalies into tickets."""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DetectionEngine
from domain import Anomaly
from faultline.directory import DeviceDirectory
from fieldservice import tickets
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
    ) -> None:
        self.telemetry = telemetry
        self.sessions = sessions
        self.directory = directory
        self.engine = engine or DetectionEngine()
        self.tickets_opened = 0
        self.anomalies_seen = 0

    def __call__(self, batch: Batch) -> None:
        if batch.readings:
            self.telemetry.write(batch.readings)
        anomalies = self._detect(batch)
        if not (anomalies or batch.dead_letters):
            return
        with self.sessions.begin() as session:
            if batch.dead_letters:
                dead_letters.add_many(session=session, letters=batch.dead_letters)
            for anomaly in anomalies:
                _, created = tickets.open_or_update(
                    session=session, anomaly=anomaly, now=time.time()
                )
                self.tickets_opened += int(created)
                if created:
                    log.info("ticket opened: %s %s", anomaly.device_id, anomaly.fault_code)
        self.anomalies_seen += len(anomalies)

    def _detect(self, batch: Batch) -> list[Anomaly]:
        found: list[Anomaly] = []
        for reading in batch.readings:
            device_type = self.directory.lookup(reading.device_id)
            if device_type is not None:
                found.extend(self.engine.process(device_type, reading))
        return found
