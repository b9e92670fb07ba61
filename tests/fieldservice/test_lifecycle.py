"""The ticket state machine, property-tested: whatever sequence of requests arrives, only
legal moves happen, every one lands on the timeline and in the audit chain, and the
final and reopen rules hold."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from domain import Anomaly, DeviceInfo, DeviceType, FaultCode, Location, Severity
from fieldservice import audit, lifecycle, tickets
from fieldservice.errors import IllegalTransitionError
from fieldservice.lifecycle import TECHNICIAN_MOVES, TRANSITIONS, Role
from storage import devices
from storage.database import make_engine, make_session_factory, migrate
from storage.models import TicketStatus as S

FRIDGE = "fridge-0001"

statuses = st.sampled_from(list(S))
roles = st.sampled_from(list(Role))
requests = st.lists(st.tuples(statuses, roles, st.booleans()), max_size=40)


def _walk(steps: list[tuple[S, Role, bool]]) -> tuple[list[S], int]:
    """Apply requests to the pure rules; returns the path taken and how many were refused."""
    current = S.OPENED
    path = [current]
    refused = 0
    for target, role, note in steps:
        try:
            lifecycle.check(current, target, role, has_note=note)
        except IllegalTransitionError as exc:
            assert current.value in str(exc), "the refusal must say where the ticket is"
            refused += 1
            continue
        current = target
        path.append(current)
    return path, refused


@given(requests)
def test_only_listed_transitions_ever_happen(steps: list[tuple[S, Role, bool]]) -> None:
    path, refused = _walk(steps)
    for before, after in itertools.pairwise(path):
        assert after in TRANSITIONS[before]
    assert len(path) - 1 + refused == len(steps)


@given(requests)
def test_closed_is_reached_only_through_resolved_and_cancelled_is_final(
    steps: list[tuple[S, Role, bool]],
) -> None:
    path, _ = _walk(steps)
    for before, after in itertools.pairwise(path):
        if after is S.CLOSED:
            assert before is S.RESOLVED
        assert before is not S.CANCELLED
        if after is S.RESOLVED:
            assert before is S.ON_SITE, "only a visit resolves a ticket"


@given(statuses, statuses)
def test_a_technician_may_only_report_their_own_progress(current: S, target: S) -> None:
    try:
        lifecycle.check(current, target, Role.TECHNICIAN)
    except IllegalTransitionError:
        assert (current, target) not in TECHNICIAN_MOVES
    else:
        assert (current, target) in TECHNICIAN_MOVES


@given(statuses, statuses, st.booleans())
def test_system_and_operator_agree_on_the_graph(current: S, target: S, note: bool) -> None:
    def legal(role: Role) -> bool:
        try:
            lifecycle.check(current, target, role, has_note=True)
        except IllegalTransitionError:
            return False
        return True

    assert legal(Role.SYSTEM) == legal(Role.OPERATOR) == (target in TRANSITIONS[current])


def test_operator_needs_a_reason_to_close_without_telemetry() -> None:
    with pytest.raises(IllegalTransitionError, match="note"):
        lifecycle.check(S.RESOLVED, S.CLOSED, Role.OPERATOR)
    lifecycle.check(S.RESOLVED, S.CLOSED, Role.OPERATOR, has_note=True)
    lifecycle.check(S.RESOLVED, S.CLOSED, Role.SYSTEM)


def test_every_status_is_reachable_from_opened() -> None:
    seen, frontier = {S.OPENED}, [S.OPENED]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(S)


@pytest.fixture(scope="module")
def memory_db() -> Callable[[], Session]:
    engine = make_engine("sqlite://")
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        devices.create(
            session=session,
            device_in=DeviceInfo(FRIDGE, DeviceType.FRIDGE, "FR-300", "c-1", Location(31.2, 121.5)),
        )
    return sessions


def _anomaly() -> Anomaly:
    return Anomaly(
        device_id=FRIDGE,
        fault_code=FaultCode.FRIDGE_TEMP_DRIFT,
        severity=Severity.MEDIUM,
        detected_at=1_764_003_600.0,
        onset_at=1_764_001_800.0,
        confidence=0.87,
        summary="cabinet warming",
        diagnosis={"skill": "fridge", "repair_minutes": 45},
    )


@settings(max_examples=40, deadline=None)
@given(requests)
def test_applied_on_a_real_ticket_every_move_is_timelined_and_chained(
    memory_db: Callable[[], Session], steps: list[tuple[S, Role, bool]]
) -> None:
    with memory_db() as session:
        ticket, _ = tickets.open_or_update(session=session, anomaly=_anomaly(), now=0.0)
        audit.seal_ticket(session=session, ticket_id=ticket.id)
        moves = 0
        for n, (target, role, note) in enumerate(steps, start=1):
            before = S(ticket.status)
            try:
                lifecycle.apply(
                    session=session,
                    ticket=ticket,
                    target=target,
                    actor=role.value,
                    role=role,
                    now=float(n),
                    note="because" if note else None,
                )
            except IllegalTransitionError:
                assert ticket.status == before.value, "a refused move changed the ticket"
                continue
            moves += 1
        events = tickets.timeline(session=session, ticket_id=ticket.id)
        changes = [e for e in events if e.kind == "status_changed"]
        assert len(changes) == moves
        for event in changes:
            assert S(event.to_status) in TRANSITIONS[S(event.from_status)]
        if changes:
            assert changes[-1].to_status == ticket.status
        report = audit.verify(session=session)
        assert report.ok, report.problems
        session.rollback()
