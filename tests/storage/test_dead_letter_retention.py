"""Dead letters stay bounded: a payload keeps only its first bytes (with its size and
SHA-256), and retention by age and by count deletes the rest, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, delete, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from domain.wire import DeadLetter, RejectReason
from storage import dead_letters
from storage.database import alembic_config, make_engine, make_session_factory, migrate
from storage.dead_letters import PREFIX_BYTES, Retention
from storage.models import DeadLetterRow

NOW = 1_764_000_000.0
DAY = 86_400.0
TWENTY_MB = 20 * 1024 * 1024


def _letter(n: int, *, payload: bytes = b"{not json", received_at: float = NOW) -> DeadLetter:
    return DeadLetter(
        topic=f"devices/fridge-{n:05d}/telemetry",
        payload=payload,
        reason=RejectReason.OVERSIZE if len(payload) > 16_384 else RejectReason.BAD_JSON,
        detail=f"letter {n}",
        received_at=received_at,
        device_id=f"fridge-{n:05d}",
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'faultline.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(DeadLetterRow)) or 0)


def test_a_20_mb_payload_keeps_its_prefix_size_and_hash(sessions: sessionmaker[Session]) -> None:
    payload = b'{"ts": 1764000000, "pad": "' + b"x" * TWENTY_MB + b'"}'
    with sessions.begin() as session:
        dead_letters.add_many(session=session, letters=[_letter(1, payload=payload)])
    with sessions() as session:
        (summary,) = dead_letters.list_page(session=session, limit=10)
        assert summary.payload_bytes == len(payload)
        assert summary.payload_sha256 == hashlib.sha256(payload).hexdigest()
        letter = dead_letters.get(session=session, letter_id=summary.id)
        assert letter is not None
        assert letter.payload_prefix == payload[:PREFIX_BYTES]
        stored = session.scalar(select(func.length(DeadLetterRow.payload_prefix)))
        assert stored == PREFIX_BYTES
        assert dead_letters.get(session=session, letter_id=summary.id + 1) is None


def test_a_small_payload_is_kept_whole(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        dead_letters.add_many(session=session, letters=[_letter(1, payload=b"\x00\xffnot json")])
    with sessions() as session:
        (summary,) = dead_letters.list_page(session=session)
        letter = dead_letters.get(session=session, letter_id=summary.id)
        assert letter is not None and letter.payload_prefix == b"\x00\xffnot json"
        assert summary.payload_bytes == 10


def test_twenty_five_20_mb_payloads_do_not_grow_the_database(tmp_path: Path) -> None:
    """The issue's case: 25 oversize letters of 20 MB added 500 MB to the file."""
    path = tmp_path / "faultline.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    sessions = make_session_factory(engine)
    before = path.stat().st_size
    payload = b"y" * TWENTY_MB
    try:
        for n in range(25):
            with sessions.begin() as session:
                dead_letters.add_many(session=session, letters=[_letter(n, payload=payload)])
    finally:
        engine.dispose()
    on_disk = sum(p.stat().st_size for p in tmp_path.glob("faultline.db*"))
    assert on_disk - before < 1024 * 1024, on_disk


def test_letters_past_the_count_limit_are_trimmed_to_it_newest_kept(
    sessions: sessionmaker[Session],
) -> None:
    limit = 1_000
    with sessions.begin() as session:
        dead_letters.add_many(
            session=session, letters=[_letter(n, received_at=NOW + n) for n in range(limit)]
        )
    retention = Retention(max_age_s=30 * DAY, max_count=limit)
    with sessions.begin() as session:
        dead_letters.add_many(
            session=session,
            letters=[_letter(n, received_at=NOW + n) for n in range(limit, limit + 10_000)],
            retention=retention,
        )
    assert _count(sessions) == limit
    with sessions() as session:
        shown = dead_letters.list_page(session=session, limit=limit)
    assert [s.detail for s in shown] == [f"letter {n}" for n in reversed(range(10_000, 11_000))]


def test_skipped_ids_never_let_the_count_pass_the_limit(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        dead_letters.add_many(session=session, letters=[_letter(n) for n in range(100)])
        # Ids skipped in the middle, as rolled-back inserts leave them on PostgreSQL.
        session.execute(delete(DeadLetterRow).where(DeadLetterRow.id.between(60, 70)))
    with sessions.begin() as session:
        dead_letters.add_many(
            session=session,
            letters=[_letter(n) for n in range(100, 110)],
            retention=Retention(max_age_s=30 * DAY, max_count=50),
        )
    with sessions() as session:
        kept = [s.detail for s in dead_letters.list_page(session=session, limit=100)]
    assert len(kept) <= 50 and kept[:10] == [f"letter {n}" for n in reversed(range(100, 110))]


def test_the_periodic_trim_removes_letters_older_than_the_age_limit(
    sessions: sessionmaker[Session],
) -> None:
    ages_days = [45, 31, 29, 1, 0]
    with sessions.begin() as session:
        dead_letters.add_many(
            session=session,
            letters=[_letter(n, received_at=NOW - age * DAY) for n, age in enumerate(ages_days)],
        )
    with sessions.begin() as session:
        removed = dead_letters.trim(
            session=session, retention=Retention(max_age_s=30 * DAY, max_count=100), now=NOW
        )
    assert removed == 2
    with sessions() as session:
        kept = [s.detail for s in dead_letters.list_page(session=session)]
    assert kept == ["letter 4", "letter 3", "letter 2"]


def test_adding_applies_the_age_limit_too(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        dead_letters.add_many(session=session, letters=[_letter(0, received_at=NOW - 40 * DAY)])
    with sessions.begin() as session:
        dead_letters.add_many(
            session=session,
            letters=[_letter(1, received_at=NOW)],
            retention=Retention(max_age_s=30 * DAY, max_count=100),
        )
    with sessions() as session:
        assert [s.detail for s in dead_letters.list_page(session=session)] == ["letter 1"]


def test_listing_selects_no_payload_column(tmp_path: Path) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        dead_letters.add_many(session=session, letters=[_letter(n) for n in range(1_000)])
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions() as session:
            shown = dead_letters.list_page(session=session, limit=1_000)
    finally:
        event.remove(engine, "before_cursor_execute", record)
        engine.dispose()
    assert len(shown) == 1_000
    selects = [s for s in statements if "FROM dead_letters" in s]
    assert selects, statements
    assert not any("payload_prefix" in s for s in selects), selects
    assert not hasattr(shown[0], "payload_prefix")


def test_retention_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_count"):
        Retention(max_age_s=DAY, max_count=0)
    with pytest.raises(ValueError, match="max_age_s"):
        Retention(max_age_s=0, max_count=10)


def test_the_migration_cuts_letters_stored_whole_to_prefix_size_and_hash(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    payloads = [b"z" * 100_000, b"short"]
    with engine.begin() as connection:
        for n, payload in enumerate(payloads):
            connection.execute(
                text(
                    "INSERT INTO dead_letters (received_at, topic, device_id, reason, detail,"
                    " payload) VALUES (:at, 'devices/x/telemetry', NULL, 'oversize', :d, :p)"
                ),
                {"at": NOW + n, "d": f"letter {n}", "p": payload},
            )
    try:
        migrate(engine)
        with make_session_factory(engine)() as session:
            summaries = dead_letters.list_page(session=session)
            assert [s.payload_bytes for s in summaries] == [5, 100_000]
            for summary, payload in zip(summaries, reversed(payloads), strict=True):
                assert summary.payload_sha256 == hashlib.sha256(payload).hexdigest()
                letter = dead_letters.get(session=session, letter_id=summary.id)
                assert letter is not None and letter.payload_prefix == payload[:PREFIX_BYTES]
    finally:
        engine.dispose()
