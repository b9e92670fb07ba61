"""A customer moves a booked visit to another offered window; routing leaves it there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain import FaultCode
from fieldservice import flows, rescheduling, scheduling, technicians, tickets, work_orders
from fieldservice.config import FieldServiceConfig
from fieldservice.errors import IllegalTransitionError, InvalidRequestError
from fieldservice.notifications import outbox
from storage.database import make_engine, make_session_factory, migrate
from storage.models import TechnicianRow, TicketRow, TicketStatus
from tests.doors import drift, provision

CONFIG = FieldServiceConfig()
# A fixed wall clock (a Monday, 09:00 UTC) for the service; technicians work all week.
NOW = 1_765_184_400.0


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    provision(factory)
    yield factory
    engine.dispose()


def _booked(sessions: sessionmaker[Session], device_id: str = "fridge-anna") -> int:
    with sessions.begin() as session:
        ticket, _ = flows.handle_anomaly(
            session=session,
            anomaly=drift(device_id, FaultCode.FRIDGE_TEMP_DRIFT, 1_764_003_600.0),
            now=NOW,
            config=CONFIG,
        )
        ticket_id = ticket.id
    with sessions.begin() as session:
        scheduling.dispatch_round(session=session, now=NOW, config=CONFIG)
    return ticket_id


@pytest.mark.parametrize("hour", [0, 9, 17, 23])
def test_offered_windows_are_two_hours_in_the_technicians_next_days_not_the_current_one(
    sessions: sessionmaker[Session], hour: int
) -> None:
    now = NOW - 9 * 3600 + hour * 3600  # the same day, at several hours
    ticket_id = _booked(sessions)
    with sessions() as session:
        ticket = session.get(TicketRow, ticket_id)
        assert ticket is not None and ticket.status == "assigned"
        order = work_orders.get_for_ticket(session=session, ticket_id=ticket_id)
        assert order is not None
        windows = rescheduling.offered(session=session, ticket=ticket, now=now)
    assert 1 <= len(windows) <= rescheduling.MAX_OFFERS
    assert all(w.end - w.start == rescheduling.WINDOW_S for w in windows)
    assert all(w.start >= now + rescheduling.LEAD_S for w in windows)
    assert order.window_start not in {w.start for w in windows}
    assert [w.start for w in windows] == sorted(w.start for w in windows)


def test_rescheduling_pins_the_window_tells_both_sides_and_routing_keeps_it(
    sessions: sessionmaker[Session],
) -> None:
    ticket_id = _booked(sessions)
    with sessions.begin() as session:
        ticket = session.get(TicketRow, ticket_id)
        assert ticket is not None
        choice = rescheduling.offered(session=session, ticket=ticket, now=NOW)[-1]
        rescheduling.reschedule(
            session=session,
            ticket=ticket,
            window_start=choice.start,
            actor="customer:c-anna",
            now=NOW,
            config=CONFIG,
        )
    # Another job for the same technician re-routes their day: the pinned visit stays put.
    with sessions.begin() as session:
        tech = session.get(TechnicianRow, "t-wang")
        assert tech is not None
        shift = technicians.next_shift(tech, NOW)
        assert shift is not None
        scheduling.route_day(session=session, technician=tech, shift=shift, now=NOW, config=CONFIG)
    with sessions() as session:
        order = work_orders.get_for_ticket(session=session, ticket_id=ticket_id)
        assert order is not None
        assert (order.window_start, order.window_end) == (choice.start, choice.end)
        assert order.service_day == choice.day and order.pinned_by == "customer:c-anna"
        kinds = {
            (row.audience, row.kind)
            for row in outbox.list_page(session=session, ticket_id=ticket_id)
        }
        moves = [
            (e.kind, e.actor)
            for e in tickets.timeline(session=session, ticket_id=ticket_id)
            if e.kind == "rescheduled"
        ]
    assert ("customer", "visit_rescheduled") in kinds
    assert ("technician", "work_order") in kinds
    assert moves == [("rescheduled", "customer:c-anna")]


def test_a_window_not_offered_or_a_visit_under_way_cannot_be_moved(
    sessions: sessionmaker[Session],
) -> None:
    ticket_id = _booked(sessions)
    with sessions.begin() as session:
        ticket = session.get(TicketRow, ticket_id)
        assert ticket is not None
        with pytest.raises(InvalidRequestError, match="not one of the windows offered"):
            rescheduling.reschedule(
                session=session,
                ticket=ticket,
                window_start=NOW + 3600 * 7 + 17,
                actor="customer:c-anna",
                now=NOW,
                config=CONFIG,
            )
        flows.change_status(
            session=session,
            ticket_id=ticket_id,
            status=TicketStatus.EN_ROUTE,
            actor="t-wang",
            now=NOW,
            config=CONFIG,
        )
        assert rescheduling.offered(session=session, ticket=ticket, now=NOW) == []
        with pytest.raises(IllegalTransitionError, match="has not started"):
            rescheduling.reschedule(
                session=session,
                ticket=ticket,
                window_start=NOW,
                actor="customer:c-anna",
                now=NOW,
                config=CONFIG,
            )


def test_windows_come_from_the_real_clock_too(sessions: sessionmaker[Session]) -> None:
    """Whatever the date and hour this runs at, an all-week technician has windows to offer."""
    ticket_id = _booked(sessions)
    with sessions() as session:
        ticket = session.get(TicketRow, ticket_id)
        assert ticket is not None
        assert rescheduling.offered(session=session, ticket=ticket, now=time.time())
