"""Field-service flows on a real database: reopening, telemetry-verified closure, household
incidents, queueing with a reason, SLA escalation, and the pre-filled work order."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain import Anomaly, DeviceInfo, DeviceType, FaultCode, Location, Reading, Severity
from domain.devices import CustomerTier
from fieldservice import audit, customers, escalation, flows, households, scheduling, technicians
from fieldservice.closure import FaultClear, RepairObservation
from fieldservice.config import FieldServiceConfig
from storage import devices
from storage.models import NotificationRow, TicketRow, TicketStatus, WorkOrderRow
from tests.fieldservice.conftest import FRIDGE

MakeAnomaly = Callable[..., Anomaly]
CONFIG = FieldServiceConfig(
    desk_email="desk@faultline.test", closure_quiet_s=3600.0, household_hold_s=60.0
)
ALL_WEEK = tuple(range(7))


def _technician(session: Session, technician_id: str = "t-05", **overrides: object) -> None:
    fields: dict[str, object] = {
        "technician_id": technician_id,
        "name": "Wang Wei",
        "skills": ("fridge",),
        "base_lat": 31.20,
        "base_lon": 121.50,
        "radius_km": 25.0,
        "shift_start_min": 0,
        "shift_end_min": 24 * 60,
        "workdays": ALL_WEEK,
        "email": f"{technician_id}@faultline.test",
    }
    fields.update(overrides)
    technicians.create(
        session=session,
        technician_in=technicians.TechnicianIn(**fields),
        now=time.time(),  # type: ignore[arg-type]
    )


def _messages(session: Session, **where: object) -> list[NotificationRow]:
    query = select(NotificationRow).order_by(NotificationRow.id)
    for name, value in where.items():
        query = query.where(getattr(NotificationRow, name) == value)
    return list(session.scalars(query))


def _customer(session: Session, customer_id: str = "c-17", language: str = "en") -> None:
    customers.upsert(
        session=session,
        customer_in=customers.CustomerIn(
            customer_id,
            name="Li Na",
            email=f"{customer_id}@example.test",
            phone="+86 138 0013 8000",
            language=language,
            access_notes="code 4711, dog is friendly",
            preferred_windows=({"weekdays": [5, 6], "start": "09:00", "end": "12:00"},),
        ),
        now=time.time(),
    )


def _walk_to_resolved(session: Session, ticket_id: int, now: float) -> None:
    for step, status in enumerate(("en_route", "on_site", "resolved")):
        flows.change_status(
            session=session,
            ticket_id=ticket_id,
            status=TicketStatus(status),
            actor="t-05",
            now=now + step,
            config=CONFIG,
        )


def test_ticket_is_dispatched_with_a_prefilled_work_order_and_everyone_told(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    found = anomaly(FaultCode.FRIDGE_COMPRESSOR_FAILURE, Severity.CRITICAL)
    readings = [
        Reading(
            FRIDGE,
            found.onset_at - 3600 + 60 * i,
            i,
            {"cabinet_temp_c": 4.0 + max(0, i - 60) * 0.1},
        )
        for i in range(100)
    ]
    with session_factory.begin() as session:
        _customer(session, language="zh")
        _technician(session)
        ticket, created = flows.handle_anomaly(
            session=session, anomaly=found, now=now, config=CONFIG
        )
        assert created and ticket.respond_by is not None and ticket.resolve_by is not None
        report = scheduling.dispatch_round(
            session=session, now=now, config=CONFIG, readings=lambda *_: readings
        )
        assert report.assigned == {ticket.id: "t-05"}
        assert ticket.status == TicketStatus.ASSIGNED and ticket.technician_id == "t-05"
        order = session.scalars(select(WorkOrderRow)).one()
        content = order.content
        assert content["appliance"]["model"] == "FR-300"
        assert content["site"]["access_notes"] == "code 4711, dog is friendly"
        assert content["site"]["preferred_windows"][0]["start"] == "09:00"
        assert content["chart"]["svg"].startswith("<svg") and content["chart"]["points"] == 100
        assert content["checklist"] and content["estimated_minutes"] > 0
        assert order.window_start is not None and order.route_seq == 1
        kinds = [(m.audience, m.kind) for m in _messages(session)]
        assert ("customer", "fault_alert") in kinds
        assert ("customer", "visit_booked") in kinds
        assert ("technician", "work_order") in kinds
        booked = _messages(session, kind="visit_booked")[0]
        assert booked.language == "zh" and "技师Wang Wei" in booked.body
        assert audit.verify(session=session).ok


def test_fault_after_repair_reopens_the_ticket_and_tells_customer_and_desk(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    with session_factory.begin() as session:
        _customer(session)
        _technician(session)
        ticket, _ = flows.handle_anomaly(session=session, anomaly=anomaly(), now=now, config=CONFIG)
        scheduling.dispatch_round(session=session, now=now, config=CONFIG)
        _walk_to_resolved(session, ticket.id, now)
        # Readings after the repair, not yet long enough to close.
        flows.observe_telemetry(
            session=session,
            seen={FRIDGE: RepairObservation(now + 10, 1_764_020_000.0, 1_764_021_000.0)},
            now=now + 10,
        )
        assert flows.verify_closures(session=session, now=now + 11, config=CONFIG) == []
        again, reopened = flows.handle_anomaly(
            session=session,
            anomaly=anomaly(detected_at=1_764_021_500.0),
            now=now + 20,
            config=CONFIG,
        )
        assert reopened and again.id == ticket.id
        assert again.status == TicketStatus.OPENED and again.technician_id is None
        assert session.scalar(select(TicketRow.id).where(TicketRow.id != ticket.id)) is None
        assert [m.kind for m in _messages(session, audience="customer")][-1] == "reopened"
        assert _messages(session, audience="desk", kind="repair_failed")
        order = session.scalars(select(WorkOrderRow)).one()
        assert (order.status, order.revision) == ("pending", 2)


def test_repair_closes_only_after_the_quiet_period_then_follow_up_is_scheduled(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    with session_factory.begin() as session:
        _customer(session)
        _technician(session)
        ticket, _ = flows.handle_anomaly(session=session, anomaly=anomaly(), now=now, config=CONFIG)
        scheduling.dispatch_round(session=session, now=now, config=CONFIG)
        # Readings that arrived before the repair do not count.
        flows.observe_telemetry(
            session=session, seen={FRIDGE: RepairObservation(now, 1e9, 1e9 + 9000)}, now=now
        )
        _walk_to_resolved(session, ticket.id, now)
        flows.observe_telemetry(
            session=session, seen={FRIDGE: RepairObservation(now - 5, 1e9, 1e9 + 9000)}, now=now + 3
        )
        assert flows.verify_closures(session=session, now=now + 4, config=CONFIG) == []
        flows.observe_telemetry(
            session=session, seen={FRIDGE: RepairObservation(now + 5, 2e9, 2e9 + 1800)}, now=now + 5
        )
        assert flows.verify_closures(session=session, now=now + 6, config=CONFIG) == []
        flows.observe_telemetry(
            session=session,
            seen={FRIDGE: RepairObservation(now + 7, 2e9 + 1800, 2e9 + 3600)},
            now=now + 7,
        )
        assert flows.verify_closures(session=session, now=now + 8, config=CONFIG) == [ticket.id]
        assert ticket.status == TicketStatus.CLOSED
        follow_up = _messages(session, kind="follow_up")[0]
        assert follow_up.next_attempt_at == now + 8 + CONFIG.follow_up_delay_s
        # Within the reopen window, the same fault reopens the closed ticket.
        again, reopened = flows.handle_anomaly(
            session=session, anomaly=anomaly(detected_at=2e9 + 7200), now=now + 100, config=CONFIG
        )
        assert reopened and again.id == ticket.id and again.status == TicketStatus.OPENED


def _still_failing(oldest: float, newest: float, arrived: float) -> RepairObservation:
    """Readings whose compressor-failure alarm still shows at the newest of them."""
    detail = "Compressor has not run for 900 min while the cabinet warmed to 17.0 °C"
    clear = FaultClear(last_present_at=newest, cleared_since=None, detail=detail)
    return RepairObservation(arrived, oldest, newest, {"FRIDGE_COMPRESSOR_FAILURE": clear})


def test_a_claimed_repair_the_telemetry_contradicts_reopens_and_is_never_confirmed(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now, t0 = time.time(), 2e9
    found = anomaly(FaultCode.FRIDGE_COMPRESSOR_FAILURE, Severity.CRITICAL)
    with session_factory.begin() as session:
        _customer(session)
        _technician(session)
        ticket, _ = flows.handle_anomaly(session=session, anomaly=found, now=now, config=CONFIG)
        scheduling.dispatch_round(session=session, now=now, config=CONFIG)
        _walk_to_resolved(session, ticket.id, now)
        resolved = _messages(session, audience="customer", kind="resolved")[0]
        assert "repaired" not in resolved.subject and "confirm" in resolved.body
        # The device reports for longer than the quiet period, the alarm still latched:
        # far past the day that used to close it "device normal".
        for hour in range(1, 48):
            seen = _still_failing(t0 + (hour - 1) * 3600, t0 + hour * 3600, now + 10)
            flows.observe_telemetry(session=session, seen={FRIDGE: seen}, now=now + 10 + hour)
            assert flows.verify_closures(session=session, now=now + 10 + hour, config=CONFIG) == []
            assert ticket.status == TicketStatus.RESOLVED
        seen = _still_failing(t0 + 47 * 3600, t0 + 48 * 3600, now + 10)
        flows.observe_telemetry(session=session, seen={FRIDGE: seen}, now=now + 60)
        assert flows.verify_closures(session=session, now=now + 60, config=CONFIG) == []
        assert ticket.status == TicketStatus.OPENED and ticket.technician_id is None
        kinds = [m.kind for m in _messages(session, audience="customer")]
        assert "closed" not in kinds and kinds[-1] == "reopened"
        [desk] = _messages(session, audience="desk", kind="repair_failed")
        assert "has not cleared in 48 h" in desk.body and "Compressor has not run" in desk.body
        assert audit.verify(session=session).ok


def test_a_repair_is_confirmed_once_the_fault_has_stayed_clear_for_the_quiet_period(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now, t0 = time.time(), 2e9
    found = anomaly(FaultCode.FRIDGE_COMPRESSOR_FAILURE, Severity.CRITICAL)
    code = "FRIDGE_COMPRESSOR_FAILURE"
    with session_factory.begin() as session:
        _customer(session)
        _technician(session)
        ticket, _ = flows.handle_anomaly(session=session, anomaly=found, now=now, config=CONFIG)
        scheduling.dispatch_round(session=session, now=now, config=CONFIG)
        _walk_to_resolved(session, ticket.id, now)
        # Still showing for the first 20 minutes after the repair (the cabinet cooling down),
        # then clear: the quiet hour counts from the clearing, not from the repair.
        flows.observe_telemetry(
            session=session, seen={FRIDGE: _still_failing(t0, t0 + 1200, now + 5)}, now=now + 5
        )
        clear = FaultClear(last_present_at=t0 + 1200, cleared_since=t0 + 1260)
        seen = RepairObservation(now + 6, t0 + 1260, t0 + 3600, {code: clear})
        flows.observe_telemetry(session=session, seen={FRIDGE: seen}, now=now + 6)
        assert flows.verify_closures(session=session, now=now + 7, config=CONFIG) == []
        seen = RepairObservation(now + 8, t0 + 3660, t0 + 4860, {code: clear})
        flows.observe_telemetry(session=session, seen={FRIDGE: seen}, now=now + 8)
        assert flows.verify_closures(session=session, now=now + 9, config=CONFIG) == [ticket.id]
        assert ticket.status == TicketStatus.CLOSED
        assert "closed" in [m.kind for m in _messages(session, audience="customer")]


def test_a_device_back_online_before_any_visit_auto_resolves_its_ticket(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    with session_factory.begin() as session:
        _customer(session)
        ticket, _ = flows.handle_anomaly(
            session=session,
            anomaly=anomaly(FaultCode.DEVICE_OFFLINE, Severity.MEDIUM),
            now=now,
            config=CONFIG,
        )
        cleared = flows.fault_cleared(
            session=session,
            device_id=FRIDGE,
            fault_code="DEVICE_OFFLINE",
            now=now + 5,
            config=CONFIG,
        )
        assert cleared is not None and cleared.id == ticket.id
        assert ticket.status == TicketStatus.AUTO_RESOLVED


def test_appliances_of_one_home_going_offline_together_get_one_notice_and_no_dispatch(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    with session_factory.begin() as session:
        _customer(session)
        _technician(session, skills=("fridge", "washer", "air_conditioner"))
        for device_id, kind in (
            ("washer-0001", DeviceType.WASHER),
            ("ac-0001", DeviceType.AIR_CONDITIONER),
        ):
            devices.create(
                session=session,
                device_in=DeviceInfo(device_id, kind, "X-1", "c-17", Location(31.2301, 121.4701)),
            )
        offline = {"skill": "any", "repair_minutes": 30, "title": "Appliance offline"}
        for i, device_id in enumerate((FRIDGE, "washer-0001", "ac-0001")):
            found = Anomaly(
                device_id,
                FaultCode.DEVICE_OFFLINE,
                Severity.MEDIUM,
                1_764_003_600.0 + 30 * i,
                1_764_003_500.0,
                0.99,
                "no data for 10 min",
                {},
                offline,
            )
            flows.handle_anomaly(session=session, anomaly=found, now=now + i, config=CONFIG)
        later = now + CONFIG.household_hold_s + 1
        households.release_holds(session=session, now=later, config=CONFIG)
        report = scheduling.dispatch_round(session=session, now=later, config=CONFIG)
        assert report.assigned == {}
        orders = session.scalars(select(WorkOrderRow)).all()
        assert {o.status for o in orders} == {"held"} and len(
            {o.household_key for o in orders}
        ) == 1
        notices = _messages(session, audience="customer")
        assert [m.kind for m in notices] == ["household_notice"]
        # Sent when the second appliance joined; the third folds into the same incident.
        assert "2 appliances" in notices[0].body and len(orders) == 3


def test_lone_offline_appliance_is_dispatched_after_the_hold(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    with session_factory.begin() as session:
        _customer(session)
        _technician(session)
        found = Anomaly(
            FRIDGE,
            FaultCode.DEVICE_OFFLINE,
            Severity.MEDIUM,
            1_764_003_600.0,
            1_764_003_500.0,
            0.99,
            "offline",
            {},
            {"skill": "any"},
        )
        ticket, _ = flows.handle_anomaly(session=session, anomaly=found, now=now, config=CONFIG)
        assert scheduling.dispatch_round(session=session, now=now + 1, config=CONFIG).assigned == {}
        assert _messages(session, audience="customer") == []
        assert households.release_holds(session=session, now=now + 61, config=CONFIG) == [ticket.id]
        assert scheduling.dispatch_round(session=session, now=now + 61, config=CONFIG).assigned == {
            ticket.id: "t-05"
        }
        assert next(m.kind for m in _messages(session, audience="customer")) == "fault_alert"


def test_nobody_eligible_queues_the_ticket_and_tells_the_desk_why_once(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    with session_factory.begin() as session:
        _technician(session, "t-wash", skills=("washer",))
        _technician(session, "t-far", base_lat=32.0, base_lon=121.5)
        ticket, _ = flows.handle_anomaly(session=session, anomaly=anomaly(), now=now, config=CONFIG)
        for round_ in range(3):
            report = scheduling.dispatch_round(session=session, now=now + round_, config=CONFIG)
        assert "t-far" in report.queued[ticket.id] and "radius 25 km" in report.queued[ticket.id]
        desk = _messages(session, audience="desk", kind="unassignable")
        assert len(desk) == 1 and "t-far" in desk[0].body
        assert ticket.status == TicketStatus.OPENED


def test_sla_escalates_once_per_level_and_raises_priority(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    with session_factory.begin() as session:
        device = devices.get(session=session, device_id=FRIDGE)
        assert device is not None
        device.customer_tier = CustomerTier.VIP.value
        ticket, _ = flows.handle_anomaly(session=session, anomaly=anomaly(), now=now, config=CONFIG)
        assert ticket.respond_by == now + 15 * 60 and ticket.resolve_by == now + 120 * 60
        assert escalation.escalate(session=session, now=now + 60, config=CONFIG) == []
        at_risk = escalation.escalate(session=session, now=now + 12 * 60, config=CONFIG)
        assert [(e.milestone, e.state.value) for e in at_risk] == [("respond", "at_risk")]
        assert escalation.escalate(session=session, now=now + 13 * 60, config=CONFIG) == []
        breached = escalation.escalate(session=session, now=now + 16 * 60, config=CONFIG)
        assert [(e.milestone, e.state.value) for e in breached] == [("respond", "breached")]
        desk = _messages(session, audience="desk", kind="sla_escalation")
        assert len(desk) == 2 and "breached" in desk[-1].subject
        kinds = [e.kind for e in flows.tickets.timeline(session=session, ticket_id=ticket.id)]
        assert kinds.count("sla_at_risk") == 1 and kinds.count("sla_breached") == 1
        from fieldservice import sla

        row = sla.get(session=session, ticket_id=ticket.id)
        assert row is not None and row.priority == ticket.severity + 2


def test_tickets_opened_around_the_flows_are_adopted_and_chained(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    with session_factory.begin() as session:
        ticket, _ = flows.tickets.open_or_update(session=session, anomaly=anomaly(), now=now)
        assert flows.adopt_orphans(session=session, now=now, config=CONFIG) == [ticket.id]
        assert flows.adopt_orphans(session=session, now=now, config=CONFIG) == []
        assert ticket.respond_by is not None
        assert session.scalars(select(WorkOrderRow)).one().status == "pending"
        assert audit.verify(session=session).ok


def test_the_work_order_charts_what_moved_and_tells_the_technician_who_and_where(
    session_factory: sessionmaker[Session], anomaly: MakeAnomaly
) -> None:
    now = time.time()
    drift = anomaly(FaultCode.FRIDGE_TEMP_DRIFT, Severity.MEDIUM)
    drift = dataclasses.replace(
        drift, evidence={"setpoint_c": 4.0, "cabinet_temp_c": 7.9, "compressor_on": 0.97}
    )
    readings = [
        Reading(
            FRIDGE,
            drift.onset_at - 3600 + 60 * i,
            i,
            {
                "setpoint_c": 4.0,
                "cabinet_temp_c": 4.0 + max(0, i - 60) * 0.1,
                "compressor_on": float(i % 3 != 0 or i > 60),
            },
        )
        for i in range(100)
    ]
    with session_factory.begin() as session:
        _customer(session)
        _technician(session)
        flows.handle_anomaly(session=session, anomaly=drift, now=now, config=CONFIG)
        scheduling.dispatch_round(
            session=session, now=now, config=CONFIG, readings=lambda *_: readings
        )
        content = session.scalars(select(WorkOrderRow)).one().content
        charted = [chart["metric"] for chart in content["charts"]]
        assert charted[0] == "cabinet_temp_c"
        assert "setpoint_c" not in charted, "a flat setpoint is no evidence"
        assert not any("setpoint_c" in step for step in content["checklist"])
        assert content["site"]["map"] == "geo:31.230000,121.470000"
        assert content["site"]["call"] == "tel:+8613800138000"
        order = _messages(session, kind="work_order")[0]
        assert "Li Na" in order.body and "+86 138 0013 8000" in order.body
        assert "geo:31.230000,121.470000" in order.body


def test_customers_are_told_in_their_own_language_tag() -> None:
    from fieldservice.notifications.templates import CUSTOMER_KINDS, TEMPLATES, render

    for kind in CUSTOMER_KINDS:
        assert set(TEMPLATES[kind]) == {"en", "zh", "ja"}, kind
    fields = {"appliance": "x", "count": 2, "appliances": "x, y"}
    assert render("household_notice", "zh-CN", fields) == render("household_notice", "zh", fields)
    assert render("household_notice", "ja-JP", fields)[0].startswith("ご家庭")
    assert render("household_notice", "fr", fields) == render("household_notice", "en", fields)
