"""The detection engine's checkpoint: saved to a real database, resumed exactly, and a
checkpoint that cannot be used or saved never stops the service."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DetectionEngine
from domain import Anomaly, Reading
from domain.wire import encode_reading
from faultline.detection_checkpoint import DetectionCheckpointer
from faultline.eval_fleet import SimRun, simulate
from storage import detection_checkpoints
from storage.database import make_engine, make_session_factory, migrate
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.service_harness import (
    Device,
    api,
    provision_fridge,
    service_settings,
    start_service,
    wait_until,
)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    db = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(db)
    return make_session_factory(db)


@pytest.fixture(scope="module")
def fleet() -> SimRun:
    return simulate(devices=24, days=3.0, seed=7)


def _feed(engine: DetectionEngine, run: SimRun, readings: list[Reading]) -> list[Anomaly]:
    found: list[Anomaly] = []
    for n, reading in enumerate(readings, 1):
        found += engine.process(run.types[reading.device_id], reading)
        if n % 500 == 0:
            found += engine.advance()
    return found + engine.advance()


def _key(anomaly: Anomaly) -> tuple[str, str, float]:
    return anomaly.device_id, anomaly.fault_code.value, anomaly.detected_at


def test_a_resumed_engine_carries_on_exactly_like_the_one_that_saved(
    sessions: sessionmaker[Session], fleet: SimRun
) -> None:
    readings = list(fleet.readings)
    half = len(readings) // 8  # before the fleet's faults begin
    original = DetectionEngine()
    _feed(original, fleet, readings[:half])
    saver = DetectionCheckpointer(sessions, name="worker-a")
    assert saver.save(original)

    resumed = DetectionCheckpointer(sessions, name="worker-a").restore()
    assert resumed.device_count == original.device_count == 24
    assert resumed.state() == original.state()
    later_original = _feed(original, fleet, readings[half:])
    later_resumed = _feed(resumed, fleet, readings[half:])
    assert [_key(a) for a in later_resumed] == [_key(a) for a in later_original]
    assert len(later_original) >= 3, "the rest of the run should raise alarms to compare"
    assert resumed.state() == original.state()


def test_checkpoints_are_per_worker_and_replaced_on_each_save(
    sessions: sessionmaker[Session], fleet: SimRun
) -> None:
    engine = DetectionEngine()
    readings = list(itertools.islice(fleet.readings, 3000))
    clock = iter(float(t) for t in range(0, 1000, 10))
    saver = DetectionCheckpointer(
        sessions, name="worker-a", every_s=25.0, clock=lambda: next(clock)
    )
    for chunk in range(0, len(readings), 1000):
        _feed(engine, fleet, readings[chunk : chunk + 1000])
        saver.after_batch(engine)
    assert saver.saves == 1, "three batches 10 s apart: one save after 25 s"
    with sessions() as session:
        saved = detection_checkpoints.load(session=session, name="worker-a")
        assert saved is not None and saved.devices == engine.device_count
        assert detection_checkpoints.load(session=session, name="worker-b") is None
    assert DetectionCheckpointer(sessions, name="worker-b").restore().device_count == 0


def test_a_checkpoint_from_another_version_or_damaged_starts_fresh_and_says_why(
    sessions: sessionmaker[Session],
) -> None:
    state = DetectionEngine().state()
    state["version"] = 999
    bad = {
        "old": gzip.compress(json.dumps(state).encode()),
        "damaged": b"not gzip at all",
    }
    for name, data in bad.items():
        with sessions.begin() as session:
            detection_checkpoints.save(
                session=session,
                checkpoint=detection_checkpoints.Checkpoint(name, 999, 0.0, None, 3, data),
            )
        checkpointer = DetectionCheckpointer(sessions, name=name)
        engine = checkpointer.restore()
        assert engine.device_count == 0
        assert checkpointer.last_error is not None and name in checkpointer.last_error
        if name == "old":
            assert "999" in checkpointer.last_error


def test_a_save_during_a_database_failure_is_counted_and_the_next_one_succeeds(
    sessions: sessionmaker[Session], fleet: SimRun
) -> None:
    engine = DetectionEngine()
    _feed(engine, fleet, list(itertools.islice(fleet.readings, 2000)))
    checkpointer = DetectionCheckpointer(sessions, name="worker-a")
    with sessions.begin() as session:
        session.execute(text("ALTER TABLE detection_checkpoints RENAME TO away"))
    assert not checkpointer.save(engine)
    assert checkpointer.failures == 1 and "not saved" in (checkpointer.last_error or "")
    with sessions.begin() as session:
        session.execute(text("ALTER TABLE away RENAME TO detection_checkpoints"))
    assert checkpointer.save(engine)
    assert DetectionCheckpointer(sessions, name="worker-a").restore().state() == engine.state()


def test_the_service_resumes_detection_state_after_a_restart(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = service_settings(mosquitto, tmp_path)
    service = start_service(settings)
    with api(service) as client:
        provision_fridge(client, "fridge-0001")
    device = Device(mosquitto)
    start = SCENARIO_START
    readings = [
        Reading("fridge-0001", start + n * 60.0, n, {"cabinet_temp_c": 4.0, "power_w": 90.0})
        for n in range(1, 31)
    ]
    try:
        device.publish_many(("devices/fridge-0001/telemetry", encode_reading(r)) for r in readings)
        wait_until(lambda: service.stats.snapshot()["stored"] == 30, 10, "30 readings processed")
        service.stop()
        saved_state = service.pipeline.engine.state()
        assert service.checkpointer.saves >= 1
        again = start_service(settings)
        try:
            assert again.checkpointer.restored_devices == 1
            assert again.pipeline.engine.state() == saved_state
            with api(again) as client:
                stats = client.get("/api/v1/ingest/stats").json()
            assert stats["detection_checkpoint"]["restored_devices"] == 1
        finally:
            again.stop()
    finally:
        device.close()
