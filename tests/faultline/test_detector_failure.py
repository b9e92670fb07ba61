"""One device's detectors raising never stops storage or the other devices' detection:
that device is reset, the event logged and counted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DetectionEngine
from domain import Anomaly, DeviceType, Reading
from faultline.directory import DeviceDirectory
from faultline.pipeline import Pipeline
from ingest.messages import Batch
from storage.embedded_telemetry import EmbeddedTelemetryStore
from storage.models import TicketRow
from tests.clock import SCENARIO_START
from tests.outage.fridges import expected_tickets, failing_fridge


class FaultyForOne(DetectionEngine):
    """The real engine, with a bug that one device's readings trigger (fault injection)."""

    victim = "fridge-0002"

    def process(self, device_type: DeviceType, reading: Reading) -> list[Anomaly]:
        if reading.device_id == self.victim and reading.seq % 50 == 7:
            raise ZeroDivisionError("float division by zero")
        return super().process(device_type, reading)


def test_a_detector_raising_for_one_device_resets_it_and_the_rest_carries_on(
    two_fridges: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = two_fridges
    telemetry = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    pipeline = Pipeline(
        telemetry=telemetry,
        sessions=sessions,
        directory=DeviceDirectory(sessions),
        engine=FaultyForOne(),
    )
    healthy = failing_fridge("fridge-0001", start=SCENARIO_START)
    victim = failing_fridge("fridge-0002", start=SCENARIO_START)
    try:
        for first in range(0, len(healthy), 100):
            pipeline(Batch(readings=healthy[first : first + 100] + victim[first : first + 100]))
        assert telemetry.count() == len(healthy) + len(victim)
        assert pipeline.detector_resets == len([r for r in victim if r.seq % 50 == 7])
        assert "detection failed on fridge-0002" in caplog.text
        with sessions() as session:
            tickets = {(t.device_id, t.fault_code) for t in session.query(TicketRow)}
        # The other fridge's fault is found exactly as without the failing neighbour.
        assert set(expected_tickets(healthy)) <= tickets
    finally:
        telemetry.close()
