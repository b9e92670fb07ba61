"""A batch retried after the database failed still opens its tickets: detectors skip
readings they have seen, so the pipeline must keep what detection found the first time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from domain import DeviceInfo, DeviceType, Location
from faultline.directory import DeviceDirectory
from faultline.pipeline import Pipeline
from ingest.messages import Batch
from storage import devices
from storage.database import make_engine, make_session_factory, migrate
from storage.embedded_telemetry import EmbeddedTelemetryStore
from storage.models import TicketRow
from tests.outage.fridges import expected_tickets, failing_fridge

FRIDGE = "fridge-0001"


class DatabaseAway:
    """Sessions whose transactions fail while `down` (as when PostgreSQL is stopped)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.down = True

    def begin(self) -> AbstractContextManager[Session]:
        if self.down:
            raise OperationalError("BEGIN", {}, Exception("connection refused"))
        return self.sessions.begin()

    def __call__(self) -> Session:
        return self.sessions()


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        devices.create(
            session=session,
            device_in=DeviceInfo(
                device_id=FRIDGE,
                type=DeviceType.FRIDGE,
                model="FR-300",
                customer_id="c-17",
                location=Location(lat=31.23, lon=121.47),
            ),
        )
    yield factory
    engine.dispose()


def test_a_batch_retried_after_a_database_failure_still_opens_its_tickets(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    telemetry = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    flaky = DatabaseAway(sessions)
    pipeline = Pipeline(
        telemetry=telemetry,
        sessions=flaky,  # type: ignore[arg-type]
        directory=DeviceDirectory(sessions),
    )
    readings = failing_fridge(FRIDGE, start=1_764_000_000.0)
    expected = expected_tickets(readings)
    batch = Batch(readings=readings)
    try:
        with pytest.raises(OperationalError):
            pipeline(batch)
        with pytest.raises(OperationalError):
            pipeline(batch)  # still away: the worker keeps retrying the same batch
        flaky.down = False
        pipeline(batch)
        with sessions() as session:
            opened: list[Any] = session.query(TicketRow.device_id, TicketRow.fault_code).all()
        assert expected.keys() <= {(device, fault) for device, fault in opened}
        assert telemetry.count() == len(readings)
    finally:
        telemetry.close()
