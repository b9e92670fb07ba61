"""A throw-away SQLite database per test, migrated to head like the service does it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain import DeviceInfo, DeviceType, Location
from domain.devices import CustomerTier
from storage.database import make_engine, make_session_factory, migrate
from tests.storage.servers import (  # noqa: F401 - fixtures: a throw-away PostgreSQL, VictoriaMetrics
    postgres_server_url,
    postgres_url,
    victoria_metrics,
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def device_info() -> Callable[..., DeviceInfo]:
    def make(device_id: str = "fridge-0001", **overrides: object) -> DeviceInfo:
        fields: dict[str, object] = {
            "device_id": device_id,
            "type": DeviceType.FRIDGE,
            "model": "FR-300",
            "customer_id": "c-17",
            "location": Location(lat=31.23, lon=121.47),
            "serial": "SN-1",
            "production_batch": "B-2024-07",
            "firmware": "1.4.2",
            "install_date": date(2024, 3, 1),
            "customer_tier": CustomerTier.PREMIUM,
        }
        fields.update(overrides)
        return DeviceInfo(**fields)  # type: ignore[arg-type]

    return make
