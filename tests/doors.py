"""A small world for the three doors' tests: the API on a real uvicorn server with a real
SQLite database and telemetry store, two customers each with a fridge, two technicians who
work around the clock (so no test depends on the hour it runs at), and tickets opened and
dispatched through the real field-service flows."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.context import ApiContext
from domain import Anomaly, DeviceInfo, DeviceType, FaultCode, Location, Reading, Severity
from faultline.sockets import free_port
from fieldservice import customers, flows, scheduling, technicians
from fieldservice.config import FieldServiceConfig
from fieldservice.customers import CustomerIn
from fieldservice.notifications import outbox
from fieldservice.technicians import TechnicianIn
from storage import devices
from storage.database import make_engine, make_session_factory, migrate
from storage.embedded_telemetry import EmbeddedTelemetryStore

TOKEN = "operator-secret"
# Two homes a few km apart, each with a technician based next door.
HOMES = {
    "c-anna": ("fridge-anna", 31.2300, 121.4700, "t-wang", "en"),
    "c-ben": ("fridge-ben", 31.2600, 121.5200, "t-sato", "ja"),
}
ALL_WEEK = (0, 1, 2, 3, 4, 5, 6)
SIGN_IN_URL = re.compile(r"https?://\S+/signin\?token=[\w-]+&next=\S+")


@dataclass
class World:
    url: str
    sessions: sessionmaker[Session]
    telemetry: EmbeddedTelemetryStore
    config: FieldServiceConfig

    def operator(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )

    def open_ticket(
        self,
        device_id: str,
        *,
        fault: FaultCode = FaultCode.FRIDGE_TEMP_DRIFT,
        detected_at: float = 1_764_003_600.0,
        readings: bool = True,
    ) -> int:
        """A fault on `device_id`: ticket, customer alert, then a dispatch round (work order)."""
        if readings:
            self.telemetry.write(drifting_fridge(device_id, onset=detected_at - 1800.0))
        now = time.time()
        with self.sessions.begin() as session:
            ticket, _ = flows.handle_anomaly(
                session=session,
                anomaly=drift(device_id, fault, detected_at),
                now=now,
                config=self.config,
            )
            ticket_id = ticket.id
        with self.sessions.begin() as session:
            scheduling.dispatch_round(
                session=session, now=now, config=self.config, readings=self._readings
            )
        return ticket_id

    def link(self, *, ticket_id: int, audience: str, kind: str) -> str:
        """The sign-in link in the newest `kind` message about the ticket to `audience`."""
        with self.sessions() as session:
            rows = outbox.list_page(session=session, ticket_id=ticket_id, audience=audience)
        for row in rows:
            if row.kind == kind:
                found = SIGN_IN_URL.search(row.body)
                assert found, f"no sign-in link in the {kind} message: {row.body}"
                return found.group(0)
        raise AssertionError(f"no {kind} message to the {audience} about ticket {ticket_id}")

    def _readings(self, device_id: str, start: float, end: float) -> list[Reading]:
        return self.telemetry.query(device_id=device_id, start=start, end=end, limit=5000)


def drift(device_id: str, fault: FaultCode, detected_at: float) -> Anomaly:
    return Anomaly(
        device_id=device_id,
        fault_code=fault,
        severity=Severity.MEDIUM,
        detected_at=detected_at,
        onset_at=detected_at - 1800.0,
        confidence=0.87,
        summary="cabinet 4.1 °C -> 9.3 °C over 30 min while the compressor ran",
        evidence={"metric": "cabinet_temp_c", "baseline": 4.1, "observed": 9.3},
        diagnosis={
            "title": "Fridge cooling weak",
            "probable_cause": "refrigerant leak",
            "recommended_action": "find the leak; repair; recharge",
            "parts": ["filter drier", "refrigerant R600a"],
            "skill": "fridge",
            "repair_minutes": 45,
        },
    )


def drifting_fridge(device_id: str, *, onset: float) -> list[Reading]:
    """Six hours of minute readings: steady near 4 °C, then warming from `onset`."""
    start = onset - 5 * 3600.0
    readings = []
    for i in range(360):
        ts = start + 60.0 * i
        warming = max(0.0, (ts - onset) / 3600.0) * 10.0
        cabinet = 4.0 + 0.3 * ((i % 10) / 10.0) + warming
        readings.append(
            Reading(
                device_id,
                ts,
                i + 1,
                {"cabinet_temp_c": cabinet, "compressor_on": float(i % 3 != 0), "setpoint_c": 4.0},
            )
        )
    return readings


def provision(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for customer_id, (device_id, lat, lon, technician_id, language) in HOMES.items():
            devices.create(
                session=session,
                device_in=DeviceInfo(
                    device_id=device_id,
                    type=DeviceType.FRIDGE,
                    model="FR-300",
                    customer_id=customer_id,
                    location=Location(lat=lat, lon=lon),
                    production_batch="FR-300-2024-01",
                ),
            )
            customers.upsert(
                session=session,
                customer_in=CustomerIn(
                    customer_id=customer_id,
                    name=f"Customer {customer_id}",
                    email=f"{customer_id}@example.test",
                    phone="+86 139 0000 0001",
                    language=language,
                    channels=("email",),
                ),
                now=time.time(),
            )
            technicians.create(
                session=session,
                technician_in=TechnicianIn(
                    technician_id=technician_id,
                    name=f"Tech {technician_id}",
                    skills=("fridge",),
                    base_lat=lat + 0.001,
                    base_lon=lon + 0.001,
                    radius_km=3.0,
                    shift_start_min=0,
                    shift_end_min=24 * 60,
                    workdays=ALL_WEEK,
                    email=f"{technician_id}@faultline.test",
                    phone="+86 138 0000 0002",
                ),
                now=time.time(),
            )


def _database_check(engine: Engine) -> dict[str, tuple[bool, str]]:
    """Like the service's health check: its own connection, a query (so, on SQLite, a lock)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"database": (True, "ok")}


@contextmanager
def running_world(tmp_path: Path) -> Iterator[World]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    provision(sessions)
    telemetry = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = FieldServiceConfig(public_url=url)
    context = ApiContext(
        sessions=sessions,
        telemetry=telemetry,
        admin_token=TOKEN,
        health_checks=lambda: _database_check(engine),
        ingest_stats=lambda: {"stored": 0, "rejected_total": 0},
        fieldservice=config,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the API server did not start"
    try:
        yield World(url=url, sessions=sessions, telemetry=telemetry, config=config)
    finally:
        server.should_exit = True
        thread.join(10)
        telemetry.close()
        engine.dispose()
