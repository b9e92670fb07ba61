"""A fault that clears by itself before anyone visits (a device back online) needs no
visit: the pipeline tells field service, and the ticket becomes `auto_resolved`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DetectionEngine
from domain import Reading
from faultline.directory import DeviceDirectory
from faultline.pipeline import Pipeline
from ingest.messages import Batch
from storage.embedded_telemetry import EmbeddedTelemetryStore
from storage.models import TicketRow
from tests.clock import SCENARIO_START
from tests.faultline.conftest import FRIDGES


def _reading(device_id: str, minute: int) -> Reading:
    cabinet = 3.8 + 0.1 * (minute * 7 % 5)  # a live sensor, never frozen
    metrics = {"cabinet_temp_c": cabinet, "setpoint_c": 4.0, "compressor_on": int(minute % 3 == 0)}
    return Reading(device_id, SCENARIO_START + 60 * minute, minute + 1, metrics)


def test_a_device_back_online_before_any_visit_auto_resolves_its_offline_ticket(
    two_fridges: sessionmaker[Session], tmp_path: Path
) -> None:
    sessions = two_fridges
    telemetry = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    pipeline = Pipeline(
        telemetry=telemetry,
        sessions=sessions,
        directory=DeviceDirectory(sessions),
        engine=DetectionEngine(scan_every_s=60.0),
    )

    def ticket() -> TicketRow | None:
        with sessions() as session:
            offline = select(TicketRow).where(TicketRow.fault_code == "DEVICE_OFFLINE")
            return session.scalars(offline).first()

    try:
        for minute in range(0, 8 * 60, 10):
            # fridge-0002 goes silent for six hours from the second hour on.
            silent = 120 <= minute < 480
            batch = [
                _reading(d, m)
                for m in range(minute, minute + 10)
                for d in FRIDGES
                if not (silent and d == "fridge-0002")
            ]
            pipeline(Batch(readings=batch))
        opened = ticket()
        assert opened is not None and opened.device_id == "fridge-0002"
        assert opened.status == "opened"
        pipeline(Batch(readings=[_reading(d, 480) for d in FRIDGES]))
        back = ticket()
        assert back is not None and back.status == "auto_resolved"
    finally:
        telemetry.close()
