"""One device's detectors raising never stops storage or the other devices' detection:
that device is reset, the event logged and counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DetectionEngine
from domain import Anomaly, DeviceInfo, DeviceType, Location, Reading
from faultline.directory import DeviceDirectory
from faultline.pipeline import Pipeline
from ingest.messages import Batch
from storage import devices
from storage.database import make_engine, make_session_factory, migrate
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


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        for device_id in ("fridge-0001", "fridge-0002"):
            devices.create(
                session=session,
                device_in=DeviceInfo(
                    device_id=device_id,
                    type=DeviceType.FRIDGE,
                    model="FR-300",
                    customer_id=f"c-{device_id}",
                    location=Location(lat=31.23, lon=121.47),
                ),
            )
    yield factory
    engine.dispose()


def test_a_detector_raising_for_one_device_resets_it_and_the_rest_carries_on(
    sessions: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
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
