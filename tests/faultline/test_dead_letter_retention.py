"""The service keeps dead letters within its settings: trimmed by the retention schedule
(at start, then periodically) and whenever the pipeline stores new ones."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain.wire import DeadLetter, RejectReason
from faultline.directory import DeviceDirectory
from faultline.pipeline import Pipeline
from faultline.retention import DeadLetterTrim, RetentionSchedule
from faultline.service import Service
from faultline.settings import Settings
from ingest.messages import Batch
from storage import dead_letters
from storage.database import make_engine, make_session_factory, migrate
from storage.dead_letters import Retention
from storage.embedded_telemetry import EmbeddedTelemetryStore
from storage.models import DeadLetterRow

NOW = 1_764_000_000.0
DAY = 86_400.0


def _letters(count: int, *, received_at: float, first: int = 0) -> list[DeadLetter]:
    return [
        DeadLetter(
            topic="devices/fridge-9999/telemetry",
            payload=b'{"ts": 1, "seq": 1, "metrics": {}}',
            reason=RejectReason.UNKNOWN_DEVICE,
            detail=f"letter {n}",
            received_at=received_at,
            device_id="fridge-9999",
        )
        for n in range(first, first + count)
    ]


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    return make_session_factory(engine)


def _details(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return [s.detail for s in dead_letters.list_page(session=session, limit=1000)]


def test_settings_default_to_thirty_days_and_a_hundred_thousand_letters() -> None:
    settings = Settings()
    assert settings.dead_letter_max_age_days == 30
    assert settings.dead_letter_max_count == 100_000
    retention = settings.dead_letter_retention()
    assert retention == Retention(max_age_s=30 * DAY, max_count=100_000)
    for name in ("dead_letter_max_age_days", "dead_letter_max_count"):
        assert Settings.model_fields[name].description


def test_the_schedule_removes_letters_past_the_age_limit_at_every_run(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        dead_letters.add_many(session=session, letters=_letters(3, received_at=NOW - 31 * DAY))
        dead_letters.add_many(session=session, letters=_letters(2, received_at=NOW - DAY, first=3))
    clock = iter([NOW, NOW + 29.5 * DAY])
    trim = DeadLetterTrim(
        sessions, Retention(max_age_s=30 * DAY, max_count=1000), clock=lambda: next(clock)
    )
    schedule = RetentionSchedule(None, raw_days=30, every_s=3600, dead_letters=trim)
    schedule.run_once()
    assert _details(sessions) == ["letter 4", "letter 3"]
    assert schedule.dead_letters_removed == 3
    schedule.run_once()  # a month later: the other two are old too
    assert _details(sessions) == []
    assert schedule.dead_letters_removed == 5 and schedule.runs == 2


def test_the_pipeline_trims_to_the_count_limit_when_it_stores_letters(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    telemetry = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    try:
        pipeline = Pipeline(
            telemetry=telemetry,
            sessions=sessions,
            directory=DeviceDirectory(sessions),
            dead_letter_retention=Retention(max_age_s=30 * DAY, max_count=50),
        )
        pipeline(Batch(dead_letters=_letters(40, received_at=NOW)))
        pipeline(Batch(dead_letters=_letters(40, received_at=NOW + 1, first=40)))
    finally:
        telemetry.close()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetterRow)) == 50
    assert _details(sessions)[0] == "letter 79" and _details(sessions)[-1] == "letter 30"


def test_the_service_wires_the_limits_from_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULTLINE_DEAD_LETTER_MAX_AGE_DAYS", "7")
    monkeypatch.setenv("FAULTLINE_DEAD_LETTER_MAX_COUNT", "500")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'faultline.db'}",
        telemetry_path=str(tmp_path / "telemetry.db"),
    )
    service = Service(settings)  # built, never started: no broker needed
    try:
        expected = Retention(max_age_s=7 * DAY, max_count=500)
        assert service.pipeline.dead_letter_retention == expected
        assert service.retention.dead_letters is not None
        assert service.retention.dead_letters.retention == expected
        with service.sessions.begin() as session:
            # Received just now by the service's own clock, so only the count limit applies.
            letters = _letters(600, received_at=time.time())
            dead_letters.add_many(session=session, letters=letters)
        service.retention.run_once()  # what the schedule does at start
        assert len(_details(service.sessions)) == 500
    finally:
        service.telemetry.close()
        service.db.dispose()
