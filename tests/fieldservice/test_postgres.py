"""Field service on PostgreSQL: two schedulers racing assign each ticket once, and concurrent
writers keep one unbroken audit chain. (slow: starts its own PostgreSQL)"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from domain import Anomaly, DeviceInfo, DeviceType, FaultCode, Location, Severity
from fieldservice import audit, escalation, flows, scheduling, technicians
from fieldservice.config import FieldServiceConfig
from storage import devices
from storage.database import make_engine, make_session_factory, migrate
from storage.models import TicketEventRow

servers = pytest.importorskip("tests.storage.servers")
postgres_server_url = servers.postgres_server_url
postgres_url = servers.postgres_url

pytestmark = pytest.mark.slow
CONFIG = FieldServiceConfig(desk_email="desk@faultline.test")
TICKETS = 40


def test_concurrent_schedulers_assign_each_ticket_once_and_keep_one_chain(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    migrate(engine)
    sessions = make_session_factory(engine)
    now = time.time()
    with sessions.begin() as session:
        for i in range(TICKETS):
            devices.create(
                session=session,
                device_in=DeviceInfo(
                    f"fridge-{i:04d}",
                    DeviceType.FRIDGE,
                    "FR-300",
                    f"c-{i}",
                    Location(31.2 + i / 1000, 121.47),
                ),
            )
        for t in range(4):
            technicians.create(
                session=session,
                technician_in=technicians.TechnicianIn(
                    f"t-{t}",
                    f"Tech {t}",
                    ("fridge",),
                    31.22,
                    121.47,
                    30.0,
                    0,
                    1440,
                    tuple(range(7)),
                    daily_capacity=8,
                ),
                now=now,
            )
    errors: list[BaseException] = []

    def detect(first: int) -> None:
        try:
            for i in range(first, TICKETS, 2):
                found = Anomaly(
                    f"fridge-{i:04d}",
                    FaultCode.FRIDGE_TEMP_DRIFT,
                    Severity.HIGH,
                    1e9,
                    1e9 - 600,
                    0.9,
                    "warm",
                    {},
                    {"skill": "fridge", "repair_minutes": 30},
                )
                with sessions.begin() as session:
                    flows.handle_anomaly(
                        session=session, anomaly=found, now=time.time(), config=CONFIG
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)

    def schedule() -> None:
        try:
            for _ in range(15):
                with sessions.begin() as session:
                    scheduling.dispatch_round(session=session, now=time.time(), config=CONFIG)
                with sessions.begin() as session:
                    escalation.escalate(session=session, now=time.time(), config=CONFIG)
        except BaseException as exc:
            errors.append(exc)

    workers = [
        threading.Thread(target=f, args=a)
        for f, a in ((detect, (0,)), (detect, (1,)), (schedule, ()), (schedule, ()))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert not errors, errors
    with sessions.begin() as session:
        scheduling.dispatch_round(session=session, now=time.time(), config=CONFIG)
    with sessions() as session:
        assigned = session.execute(
            select(TicketEventRow.ticket_id, func.count())
            .where(TicketEventRow.kind == "assigned")
            .group_by(TicketEventRow.ticket_id)
        ).all()
        assert len(assigned) == 32  # 4 technicians × 8 slots; the rest queued
        assert all(count == 1 for _, count in assigned)
        report = audit.verify(session=session)
        assert report.ok, report.problems
    engine.dispose()
