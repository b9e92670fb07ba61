"""The pages' read functions: each costs the same number of queries however many tickets there
are, the evidence chart picks what moved, and the arrival estimate follows the technician."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from domain import DeviceInfo, DeviceType, FaultCode, Location
from fieldservice import arrival, flows, scheduling, tickets, work_orders
from fieldservice.config import FieldServiceConfig
from fieldservice.geo import haversine_km
from fieldservice.views import (
    customer_page,
    desk_queue,
    evidence,
    fleet_health,
    routes_map,
    technician_day,
    ticket_page,
)
from storage import devices
from storage.database import make_engine, make_session_factory, migrate
from storage.models import TicketRow, TicketStatus
from tests.doors import drift, drifting_fridge, provision

CONFIG = FieldServiceConfig()
NOW = 1_765_184_400.0


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    provision(make_session_factory(engine))
    yield engine
    engine.dispose()


def _more_fridges(sessions: sessionmaker[Session], count: int) -> list[str]:
    ids = [f"fridge-anna-{i}" for i in range(count)]
    with sessions.begin() as session:
        for i, device_id in enumerate(ids):
            devices.create(
                session=session,
                device_in=DeviceInfo(
                    device_id=device_id,
                    type=DeviceType.FRIDGE,
                    model="FR-300",
                    customer_id="c-anna",
                    location=Location(lat=31.2300 + 0.002 * i, lon=121.4700),
                ),
            )
    return ids


def _faults(sessions: sessionmaker[Session], device_ids: list[str]) -> list[int]:
    ids = []
    with sessions.begin() as session:
        for device_id in device_ids:
            ticket, _ = flows.handle_anomaly(
                session=session,
                anomaly=drift(device_id, FaultCode.FRIDGE_TEMP_DRIFT, 1_764_003_600.0),
                now=NOW,
                config=CONFIG,
            )
            ids.append(ticket.id)
    with sessions.begin() as session:
        scheduling.dispatch_round(session=session, now=NOW, config=CONFIG)
    return ids


def _count_queries(engine: Engine, read: Any) -> int:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        with make_session_factory(engine)() as session:
            read(session)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sum(1 for s in statements if not s.startswith(("BEGIN", "PRAGMA")))


READS = {
    "queue": lambda s, t: desk_queue.ticket_queue(session=s, now=NOW, policy=CONFIG.sla),
    "fleet": lambda s, t: fleet_health.fleet_health(session=s, now=NOW),
    "routes": lambda s, t: routes_map.routes_map(session=s, now=NOW),
    "technician_day": lambda s, t: technician_day.technician_day(
        session=s, technician_id="t-wang", now=NOW
    ),
    "job_sheet": lambda s, t: technician_day.job_sheet(session=s, ticket=s.get(TicketRow, t)),
    "customer_home": lambda s, t: customer_page.customer_home(
        session=s, customer_id="c-anna", now=NOW, config=CONFIG
    ),
    "customer_ticket": lambda s, t: customer_page.customer_ticket(
        session=s, ticket=s.get(TicketRow, t), now=NOW, config=CONFIG
    ),
    "ticket_page": lambda s, t: ticket_page.ticket_page(session=s, ticket_id=t, now=NOW),
}


@pytest.mark.parametrize("page", sorted(READS))
def test_a_page_costs_the_same_queries_for_one_ticket_or_many(engine: Engine, page: str) -> None:
    sessions = make_session_factory(engine)
    [first] = _faults(sessions, ["fridge-anna"])
    read = READS[page]
    one = _count_queries(engine, lambda s: read(s, first))
    _faults(sessions, _more_fridges(sessions, 5))
    many = _count_queries(engine, lambda s: read(s, first))
    assert one == many, f"{page}: {one} queries for one ticket, {many} for six"
    assert many <= 14, f"{page}: {many} queries"


def test_the_evidence_chart_shows_what_moved_with_the_normal_band_before_onset() -> None:
    onset = 1_764_001_800.0
    ticket = TicketRow(
        id=7,
        device_id="fridge-anna",
        fault_code="FRIDGE_TEMP_DRIFT",
        onset_at=onset,
        detected_at=onset + 1800,
        diagnosis={"evidence": {"metric": "cabinet_temp_c", "baseline": 4.1, "setpoint_c": 4.0}},
    )
    chart = evidence.chart(
        ticket=ticket, device_type="fridge", readings=drifting_fridge("fridge-anna", onset=onset)
    )
    names = [m["name"] for m in chart["metrics"]]
    assert names[0] == "cabinet_temp_c"
    assert "setpoint_c" not in names  # named in the evidence, but it held still
    cabinet = chart["metrics"][0]
    low, high = cabinet["band"]
    assert 3.9 <= low < high <= 4.4  # steady 4.0–4.3 °C before onset
    assert cabinet["baseline"] == 4.1 and not cabinet["binary"]
    assert len(chart["ts"]) == len(cabinet["values"]) == 360
    assert (chart["onset_at"], chart["detected_at"]) == (onset, onset + 1800)


def test_a_baseline_in_another_unit_is_not_drawn_on_the_metric() -> None:
    onset = 1_764_001_800.0
    ticket = TicketRow(
        id=8,
        device_id="fridge-anna",
        fault_code="FRIDGE_COMPRESSOR_FAILURE",
        onset_at=onset,
        detected_at=onset + 1800,
        # The compressor detector compares minutes off against the longest normal off run.
        diagnosis={"evidence": {"metric": "compressor_on", "observed": 0, "baseline": 105.0}},
    )
    chart = evidence.chart(
        ticket=ticket, device_type="fridge", readings=drifting_fridge("fridge-anna", onset=onset)
    )
    compressor = next(m for m in chart["metrics"] if m["name"] == "compressor_on")
    assert compressor["binary"] and compressor["baseline"] is None


def test_the_arrival_estimate_follows_the_technician_once_they_set_off(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    [ticket_id] = _faults(sessions, ["fridge-anna"])
    with sessions.begin() as session:
        ticket = session.get(TicketRow, ticket_id)
        order = work_orders.get_for_ticket(session=session, ticket_id=ticket_id)
        assert ticket is not None and order is not None and ticket.status == "assigned"
        planned = arrival.estimate(session=session, ticket=ticket, order=order, speed_kmh=30.0)
        assert planned == order.eta
        set_off = NOW + 5000.0
        flows.change_status(
            session=session,
            ticket_id=ticket_id,
            status=TicketStatus.EN_ROUTE,
            actor="t-wang",
            now=set_off,
            config=CONFIG,
        )
        km = haversine_km(31.2310, 121.4710, 31.2300, 121.4700)  # base next door → home
        eta = arrival.estimate(session=session, ticket=ticket, order=order, speed_kmh=30.0)
        assert eta == pytest.approx(set_off + km / 30.0 * 3600.0)
        assert [e.kind for e in tickets.timeline(session=session, ticket_id=ticket_id)][-1] == (
            "status_changed"
        )
