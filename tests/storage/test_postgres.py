"""The relational store on PostgreSQL: migrations, the storage services, and the
one-open-ticket rule holding while two processes race for the same anomaly."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from domain import Anomaly, DeviceInfo, DeviceType, FaultCode, Location, Severity
from domain.wire import DeadLetter, RejectReason
from fieldservice import tickets
from storage import dead_letters, devices
from storage.database import alembic_config, make_engine, make_session_factory, migrate
from storage.models import Base, TicketRow, TicketStatus

TABLES = {"devices", "anomalies", "tickets", "ticket_events", "dead_letters"}
RACE_ROUNDS = 25


def _fridge(device_id: str) -> DeviceInfo:
    return DeviceInfo(
        device_id=device_id,
        type=DeviceType.FRIDGE,
        model="FR-300",
        customer_id="c-17",
        location=Location(lat=31.23, lon=121.47),
    )


def _anomaly(device_id: str, detected_at: float = 1_764_003_600.0) -> Anomaly:
    return Anomaly(
        device_id=device_id,
        fault_code=FaultCode.FRIDGE_COMPRESSOR_FAILURE,
        severity=Severity.CRITICAL,
        detected_at=detected_at,
        onset_at=detected_at - 3600,
        confidence=0.9,
        summary="compressor off for 3 h, cabinet at 8.5 °C",
        evidence={"cabinet_temp_c": 8.5, "off_for_s": 10_800},
        diagnosis={"probable_cause": "start relay", "parts": ["relay"]},
    )


def test_migrations_build_the_models_schema_on_postgresql_and_undo_it(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        migrate(engine)
        migrate(engine)  # a second run finds the schema at head and changes nothing
        assert set(inspect(engine).get_table_names()) >= TABLES
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        open_ticket_index = next(
            index
            for index in inspect(engine).get_indexes("tickets")
            if index["name"] == "uq_tickets_open_device_fault"
        )
        assert open_ticket_index["unique"]
        assert "status" in open_ticket_index["dialect_options"]["postgresql_where"]

        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_two_workers_migrating_at_once_both_find_the_schema_at_head(postgres_url: str) -> None:
    engines = [make_engine(postgres_url) for _ in range(2)]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(engine: Any) -> None:
        try:
            start.wait(10)
            migrate(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        assert set(inspect(engines[0]).get_table_names()) >= TABLES
    finally:
        for engine in engines:
            engine.dispose()


def test_devices_dead_letters_and_tickets_round_trip_on_postgresql(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    migrate(engine)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            devices.create(session=session, device_in=_fridge("fridge-0001"))
            dead_letters.add_many(
                session=session,
                letters=[
                    DeadLetter(
                        topic="devices/fridge-0001/telemetry",
                        payload=b"\x00\xffnot json",
                        reason=RejectReason.BAD_JSON,
                        detail="expecting value",
                        received_at=1.0,
                        device_id="fridge-0001",
                    )
                ],
            )
            first, created = tickets.open_or_update(
                session=session, anomaly=_anomaly("fridge-0001"), now=10.0
            )
            assert created
        with sessions.begin() as session:
            again, created = tickets.open_or_update(
                session=session, anomaly=_anomaly("fridge-0001", 1_764_007_200.0), now=20.0
            )
            assert not created and again.id == first.id
        with sessions() as session:
            row = devices.get(session=session, device_id="fridge-0001")
            assert row is not None and devices.to_info(row).type is DeviceType.FRIDGE
            assert dead_letters.count_by_reason(session=session) == {"bad_json": 1}
            (summary,) = dead_letters.list_page(session=session, before_id=None, limit=10)
            letter = dead_letters.get(session=session, letter_id=summary.id)
            assert letter is not None and letter.payload_prefix == b"\x00\xffnot json"
            (ticket,) = tickets.list_page(session=session, device_id="fridge-0001")
            assert ticket.occurrences == 2
            assert ticket.last_detected_at == 1_764_007_200.0
            assert ticket.diagnosis["parts"] == ["relay"]  # JSONB round trip
            kinds = [event.kind for event in tickets.timeline(session=session, ticket_id=ticket.id)]
            assert kinds == ["opened", "repeat_detection"]
    finally:
        engine.dispose()


def _race(url: str, rounds: int, start: Any, results: Any) -> None:
    """One process: in each round, wait for the other, then report the same anomaly."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    created_count = 0
    try:
        for i in range(rounds):
            start.wait(30)
            with sessions.begin() as session:
                _, created = tickets.open_or_update(
                    session=session, anomaly=_anomaly(f"fridge-{i:04d}"), now=float(i)
                )
            created_count += int(created)
        results.put(("ok", created_count))
    except BaseException as exc:
        results.put(("error", repr(exc)))
    finally:
        engine.dispose()


def test_two_processes_reporting_the_same_anomaly_at_once_open_one_ticket(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        for i in range(RACE_ROUNDS):
            devices.create(session=session, device_in=_fridge(f"fridge-{i:04d}"))
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(2)
    results = spawn.Queue()
    workers = [
        spawn.Process(target=_race, args=(postgres_url, RACE_ROUNDS, start, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(30)
    try:
        assert all(status == "ok" for status, _ in outcomes), outcomes
        # Each round opened exactly one ticket, whichever process won.
        assert sum(created for _, created in outcomes) == RACE_ROUNDS
        with sessions() as session:
            per_device = session.execute(
                select(TicketRow.device_id, func.count(), func.sum(TicketRow.occurrences))
                .where(TicketRow.status == TicketStatus.OPENED.value)
                .group_by(TicketRow.device_id)
            ).all()
        assert len(per_device) == RACE_ROUNDS
        assert {(count, occurrences) for _, count, occurrences in per_device} == {(1, 2)}
    finally:
        engine.dispose()
