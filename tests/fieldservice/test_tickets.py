"""Tickets: one open ticket per device and fault, repeat detections folded in, races included."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain import Anomaly, FaultCode, Severity
from fieldservice import tickets
from fieldservice.errors import UnknownDeviceError
from storage import anomalies
from storage.models import TicketRow, TicketStatus
from tests.fieldservice.conftest import FRIDGE

NOW = 1_764_010_000.0
MakeAnomaly = Callable[..., Anomaly]

INSERT_OPEN_TICKET = text(
    "INSERT INTO tickets (device_id, fault_code, severity, status, opened_at, updated_at,"
    " detected_at, onset_at, last_detected_at, occurrences, diagnosis)"
    " VALUES (:device_id, :fault_code, 2, :status, 0, 0, 0, 0, 0, 1, '{}')"
)


def _ticket_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TicketRow)) or 0


def test_first_detection_opens_a_ticket_carrying_the_diagnosis(
    session: Session, anomaly: MakeAnomaly
) -> None:
    found = anomaly()
    ticket, created = tickets.open_or_update(session=session, anomaly=found, now=NOW)
    session.commit()

    assert created
    assert ticket.status == TicketStatus.OPENED
    assert (ticket.device_id, ticket.fault_code) == (FRIDGE, "FRIDGE_TEMP_DRIFT")
    assert ticket.severity == Severity.MEDIUM
    assert (ticket.opened_at, ticket.updated_at) == (NOW, NOW)
    assert (ticket.detected_at, ticket.onset_at) == (found.detected_at, found.onset_at)
    assert ticket.last_detected_at == found.detected_at
    assert ticket.occurrences == 1
    assert ticket.diagnosis["probable_cause"] == "door seal leak"
    assert ticket.diagnosis["parts"] == ["door gasket"]
    assert ticket.diagnosis["evidence"] == dict(found.evidence)
    assert ticket.diagnosis["confidence"] == found.confidence
    assert ticket.diagnosis["summary"] == found.summary
    assert ticket.technician_id is None and ticket.respond_by is None

    [opened] = tickets.timeline(session=session, ticket_id=ticket.id)
    assert (opened.kind, opened.actor, opened.to_status, opened.at) == (
        "opened",
        "detector",
        "opened",
        NOW,
    )
    [stored] = anomalies.list_page(session=session)
    assert stored.ticket_id == ticket.id


def test_repeat_detection_updates_the_open_ticket(session: Session, anomaly: MakeAnomaly) -> None:
    first, _ = tickets.open_or_update(session=session, anomaly=anomaly(), now=NOW)
    worse = anomaly(severity=Severity.HIGH, detected_at=1_764_007_200.0)
    second, created = tickets.open_or_update(session=session, anomaly=worse, now=NOW + 60)
    milder = anomaly(severity=Severity.LOW, detected_at=1_764_005_000.0)  # late and milder
    third, _ = tickets.open_or_update(session=session, anomaly=milder, now=NOW + 120)
    session.commit()

    assert not created
    assert first.id == second.id == third.id
    assert _ticket_count(session) == 1
    assert third.occurrences == 3
    assert third.severity == Severity.HIGH  # never lowered
    assert third.last_detected_at == 1_764_007_200.0  # never moved back
    assert third.detected_at == anomaly().detected_at  # the first confirmation stays
    assert third.updated_at == NOW + 120
    events = tickets.timeline(session=session, ticket_id=first.id)
    assert [e.kind for e in events] == ["opened", "repeat_detection", "repeat_detection"]
    assert events[1].data["severity"] == Severity.HIGH
    assert events[1].data["previous_severity"] == Severity.MEDIUM
    linked = anomalies.list_page(session=session)
    assert [row.ticket_id for row in linked] == [first.id] * 3


def test_another_fault_on_the_same_device_opens_a_second_ticket(
    session: Session, anomaly: MakeAnomaly
) -> None:
    drift, _ = tickets.open_or_update(session=session, anomaly=anomaly(), now=NOW)
    compressor = anomaly(fault_code=FaultCode.FRIDGE_COMPRESSOR_FAILURE)
    failure, created = tickets.open_or_update(session=session, anomaly=compressor, now=NOW)
    session.commit()

    assert created
    assert failure.id != drift.id
    assert {row.fault_code for row in tickets.list_page(session=session)} == {
        "FRIDGE_TEMP_DRIFT",
        "FRIDGE_COMPRESSOR_FAILURE",
    }


def test_a_fault_back_after_its_ticket_was_resolved_opens_a_new_ticket(
    session: Session, anomaly: MakeAnomaly
) -> None:
    old, _ = tickets.open_or_update(session=session, anomaly=anomaly(), now=NOW)
    old.status = TicketStatus.RESOLVED.value
    session.flush()
    new, created = tickets.open_or_update(session=session, anomaly=anomaly(), now=NOW + 86400)
    session.commit()

    assert created
    assert new.id != old.id
    assert old.occurrences == 1


def test_the_database_refuses_a_second_open_ticket_inserted_behind_pythons_back(
    session: Session,
) -> None:
    key = {"device_id": FRIDGE, "fault_code": "FRIDGE_TEMP_DRIFT"}
    session.execute(INSERT_OPEN_TICKET, {**key, "status": "closed"})
    session.execute(INSERT_OPEN_TICKET, {**key, "status": "cancelled"})
    session.execute(INSERT_OPEN_TICKET, {**key, "status": "opened"})
    with pytest.raises(IntegrityError, match="UNIQUE"), session.begin_nested():
        session.execute(INSERT_OPEN_TICKET, {**key, "status": "on_site"})
    with pytest.raises(IntegrityError, match="CHECK"), session.begin_nested():
        session.execute(INSERT_OPEN_TICKET, {**key, "status": "lost"})
    session.commit()
    assert _ticket_count(session) == 3


def test_two_sessions_racing_on_the_same_fault_end_with_one_ticket(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    start = threading.Barrier(2)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def detect() -> None:
        try:
            with session_factory() as session:
                start.wait()
                ticket, created = tickets.open_or_update(
                    session=session, anomaly=anomaly(), now=NOW
                )
                session.commit()
                results.append((ticket.id, created))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=detect) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len({ticket_id for ticket_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, True]
    with session_factory() as session:
        [ticket] = tickets.list_page(session=session)
        assert ticket.occurrences == 2


def test_losing_the_insert_race_falls_back_to_updating_the_winners_ticket(
    session: Session, anomaly: MakeAnomaly
) -> None:
    # Simulate another process committing the same ticket between our look-up and our
    # insert: slip its row in just before the savepoint that guards our INSERT.
    connection = session.connection()
    slipped_in: list[str] = []

    def competitor_commits(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("SAVEPOINT") and not slipped_in:
            slipped_in.append(statement)
            cursor.connection.execute(
                str(INSERT_OPEN_TICKET),
                {"device_id": FRIDGE, "fault_code": "FRIDGE_TEMP_DRIFT", "status": "opened"},
            )

    event.listen(connection, "before_cursor_execute", competitor_commits)
    ticket, created = tickets.open_or_update(session=session, anomaly=anomaly(), now=NOW)
    session.commit()

    assert slipped_in
    assert not created
    assert ticket.occurrences == 2
    assert _ticket_count(session) == 1
    assert [e.kind for e in tickets.timeline(session=session, ticket_id=ticket.id)] == [
        "repeat_detection"
    ]


def test_nothing_is_committed_by_the_service(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    with session_factory() as session:
        tickets.open_or_update(session=session, anomaly=anomaly(), now=NOW)
        session.rollback()
    with session_factory() as session:
        assert _ticket_count(session) == 0
        assert anomalies.list_page(session=session) == []


def test_an_anomaly_for_an_unprovisioned_device_is_refused(
    session: Session, anomaly: MakeAnomaly
) -> None:
    with pytest.raises(UnknownDeviceError, match="fridge-9999"):
        tickets.open_or_update(session=session, anomaly=anomaly(device_id="fridge-9999"), now=NOW)


def test_pages_run_newest_first_and_filter_by_status_and_device(
    session: Session, anomaly: MakeAnomaly
) -> None:
    codes = [FaultCode.FRIDGE_TEMP_DRIFT, FaultCode.FRIDGE_DOOR_SEAL_LEAK, FaultCode.SENSOR_STUCK]
    opened = [
        tickets.open_or_update(session=session, anomaly=anomaly(fault_code=code), now=NOW)[0]
        for code in codes
    ]
    opened[1].status = TicketStatus.ASSIGNED.value
    session.commit()

    ids = [row.id for row in opened]
    assert [row.id for row in tickets.list_page(session=session)] == ids[::-1]
    assert [row.id for row in tickets.list_page(session=session, before_id=ids[2], limit=1)] == [
        ids[1]
    ]
    assert [row.id for row in tickets.list_page(session=session, status="assigned")] == [ids[1]]
    assert tickets.list_page(session=session, device_id="fridge-9999") == []
    assert tickets.get(session=session, ticket_id=ids[0]) is opened[0]
    assert tickets.get(session=session, ticket_id=10_000) is None
    with pytest.raises(ValueError):
        tickets.list_page(session=session, status="lost")
