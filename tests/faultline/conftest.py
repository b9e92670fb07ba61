"""Fixtures shared by the pipeline tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain import DeviceInfo, DeviceType, Location
from storage import devices
from storage.database import make_engine, make_session_factory, migrate

FRIDGES = ("fridge-0001", "fridge-0002")


@pytest.fixture
def two_fridges(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated SQLite database with `FRIDGES` provisioned (FR-300, one customer each)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        for device_id in FRIDGES:
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
