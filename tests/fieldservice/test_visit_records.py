"""What people record on a visit: the technician's job report, the customer's rating, and the
customer's consent (monitoring per appliance, channels)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain import FaultCode
from domain.people import Role
from fieldservice import (
    audit,
    consent,
    flows,
    job_reports,
    ratings,
    scheduling,
    tickets,
    work_orders,
)
from fieldservice.config import FieldServiceConfig
from fieldservice.errors import ForbiddenError, IllegalTransitionError, InvalidRequestError
from storage import consents
from storage.database import make_engine, make_session_factory, migrate
from storage.models import CustomerRow, TicketRow, TicketStatus
from tests.doors import drift, provision

CONFIG = FieldServiceConfig()
NOW = 1_765_184_400.0
S = TicketStatus


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    provision(factory)
    yield factory
    engine.dispose()


def _assigned(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        ticket, _ = flows.handle_anomaly(
            session=session,
            anomaly=drift("fridge-anna", FaultCode.FRIDGE_TEMP_DRIFT, 1_764_003_600.0),
            now=NOW,
            config=CONFIG,
        )
        ticket_id = ticket.id
    with sessions.begin() as session:
        scheduling.dispatch_round(session=session, now=NOW, config=CONFIG)
    return ticket_id


def _move(session: Session, ticket_id: int, status: TicketStatus, actor: str = "t-wang") -> None:
    flows.change_status(
        session=session, ticket_id=ticket_id, status=status, actor=actor, now=NOW, config=CONFIG
    )


def test_the_job_report_is_checked_against_the_work_order_and_kept_on_the_ticket(
    sessions: sessionmaker[Session],
) -> None:
    ticket_id = _assigned(sessions)
    with sessions.begin() as session:
        ticket = session.get(TicketRow, ticket_id)
        order = work_orders.get_for_ticket(session=session, ticket_id=ticket_id)
        assert ticket is not None and order is not None
        steps = len(order.content["checklist"])
        assert steps >= 3
        with pytest.raises(InvalidRequestError, match=f"has {steps} steps"):
            job_reports.save(
                session=session,
                ticket=ticket,
                report_in=job_reports.JobReportIn(checklist_done=(0, steps)),
                actor="t-wang",
                now=NOW,
            )
        report = job_reports.save(
            session=session,
            ticket=ticket,
            report_in=job_reports.JobReportIn(
                checklist_done=(2, 0, 2),
                parts_used=("filter drier", " ", "filter drier", "valve core"),
                note="  leak at the capillary joint; brazed and recharged  ",
            ),
            actor="t-wang",
            now=NOW,
        )
        assert report.checklist_done == [0, 2]
        assert report.parts_used == ["filter drier", "valve core"]
        assert report.note == "leak at the capillary joint; brazed and recharged"
        last = tickets.timeline(session=session, ticket_id=ticket_id)[-1]
        assert (last.kind, last.actor, last.data["checklist_done"]) == (
            "job_report",
            "t-wang",
            [0, 2],
        )
        assert audit.verify(session=session).ok


def test_a_visit_is_rated_once_done_and_the_rating_can_be_changed(
    sessions: sessionmaker[Session],
) -> None:
    ticket_id = _assigned(sessions)
    with sessions.begin() as session:
        ticket = session.get(TicketRow, ticket_id)
        assert ticket is not None
        with pytest.raises(IllegalTransitionError, match="once the repair is done"):
            ratings.rate(
                session=session,
                ticket=ticket,
                customer_id="c-anna",
                stars=5,
                comment=None,
                actor="customer:c-anna",
                now=NOW,
            )
        for status in (S.EN_ROUTE, S.ON_SITE, S.RESOLVED):
            _move(session, ticket_id, status)
        with pytest.raises(InvalidRequestError, match="1 to 5"):
            ratings.rate(
                session=session,
                ticket=ticket,
                customer_id="c-anna",
                stars=6,
                comment=None,
                actor="customer:c-anna",
                now=NOW,
            )
        ratings.rate(
            session=session,
            ticket=ticket,
            customer_id="c-anna",
            stars=2,
            comment="late",
            actor="customer:c-anna",
            now=NOW,
        )
        row = ratings.rate(
            session=session,
            ticket=ticket,
            customer_id="c-anna",
            stars=4,
            comment="late, but fixed it well",
            actor="customer:c-anna",
            now=NOW + 60,
        )
        assert (row.stars, row.comment) == (4, "late, but fixed it well")
        rated = [
            e for e in tickets.timeline(session=session, ticket_id=ticket_id) if e.kind == "rated"
        ]
        assert [e.data["stars"] for e in rated] == [2, 4]


def test_a_customer_cancels_their_own_visit_before_it_starts_but_not_someone_elses(
    sessions: sessionmaker[Session],
) -> None:
    ticket_id = _assigned(sessions)
    with sessions.begin() as session:
        with pytest.raises(ForbiddenError):
            flows.change_status(
                session=session,
                ticket_id=ticket_id,
                status=S.CANCELLED,
                actor="customer:c-ben",
                role=Role.CUSTOMER,
                now=NOW,
                config=CONFIG,
            )
        with pytest.raises(IllegalTransitionError, match="only cancel"):
            flows.change_status(
                session=session,
                ticket_id=ticket_id,
                status=S.EN_ROUTE,
                actor="customer:c-anna",
                role=Role.CUSTOMER,
                now=NOW,
                config=CONFIG,
            )
        flows.change_status(
            session=session,
            ticket_id=ticket_id,
            status=S.CANCELLED,
            actor="customer:c-anna",
            role=Role.CUSTOMER,
            note="we bought a new fridge",
            now=NOW,
            config=CONFIG,
        )
        ticket = session.get(TicketRow, ticket_id)
        assert ticket is not None and ticket.status == "cancelled"
        order = work_orders.get_for_ticket(session=session, ticket_id=ticket_id)
        assert order is not None and order.status == "cancelled"


def test_consent_turns_monitoring_off_per_device_and_sets_the_channels(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        assert consents.unmonitored_device_ids(session=session) == set()
        with pytest.raises(ForbiddenError):
            consent.set_monitoring(
                session=session,
                customer_id="c-anna",
                device_id="fridge-ben",
                monitoring=False,
                actor="customer:c-anna",
                now=NOW,
            )
        consent.set_monitoring(
            session=session,
            customer_id="c-anna",
            device_id="fridge-anna",
            monitoring=False,
            actor="customer:c-anna",
            now=NOW,
        )
        assert consents.unmonitored_device_ids(session=session) == {"fridge-anna"}
        assert consents.monitoring_of(
            session=session, device_ids=["fridge-anna", "fridge-ben"]
        ) == {
            "fridge-anna": False,
            "fridge-ben": True,
        }
        with pytest.raises(InvalidRequestError, match="unknown channels"):
            consent.set_channels(session=session, customer_id="c-anna", channels=["sms"], now=NOW)
        consent.set_channels(
            session=session, customer_id="c-anna", channels=["mqtt", "email"], now=NOW
        )
        customer = session.get(CustomerRow, "c-anna")
        assert customer is not None and customer.channels == ["email", "mqtt"]
