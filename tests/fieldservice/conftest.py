"""A migrated throw-away SQLite database with one provisioned fridge, and anomalies to feed it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain import Anomaly, DeviceInfo, DeviceType, FaultCode, Location, Severity
from storage import devices
from storage.database import make_engine, make_session_factory, migrate

FRIDGE = "fridge-0001"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    with make_session_factory(engine)() as session:
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
        session.commit()
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
def anomaly() -> Callable[..., Anomaly]:
    def make(
        fault_code: FaultCode = FaultCode.FRIDGE_TEMP_DRIFT,
        severity: Severity = Severity.MEDIUM,
        detected_at: float = 1_764_003_600.0,
        device_id: str = FRIDGE,
    ) -> Anomaly:
        return Anomaly(
            device_id=device_id,
            fault_code=fault_code,
            severity=severity,
            detected_at=detected_at,
            onset_at=detected_at - 1800.0,
            confidence=0.87,
            summary="cabinet 4.1 °C -> 9.3 °C over 30 min while the compressor ran",
            evidence={"cabinet_temp_c": {"baseline": 4.1, "now": 9.3, "z": 6.2}},
            diagnosis={
                "probable_cause": "door seal leak",
                "recommended_action": "replace gasket",
                "parts": ["door gasket"],
                "skill": "fridge",
                "repair_minutes": 45,
            },
        )

    return make
