"""Cohort surveillance: a bad batch is flagged and the desk told once; equal rates, and a
lone low p-value among many cohorts (false-discovery control), are not."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from fieldservice import cohorts
from fieldservice.config import FieldServiceConfig
from fieldservice.notifications import outbox
from storage.database import make_engine, make_session_factory, migrate
from storage.models import DeviceRow, TicketRow

NOW = 1_765_184_400.0
DAY = 86400.0
CONFIG = FieldServiceConfig(desk_email="desk@faultline.test")


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _fleet(
    sessions: sessionmaker[Session],
    faults_per_batch: Mapping[str, int],
    *,
    devices_per_batch: int = 20,
    offline: int = 0,
) -> None:
    """Devices in service for the whole window, and that many tickets per batch."""
    with sessions.begin() as session:
        for b, (batch, faults) in enumerate(sorted(faults_per_batch.items())):
            for i in range(devices_per_batch):
                device_id = f"fr-{b:02d}-{i:03d}"
                session.add(
                    DeviceRow(
                        device_id=device_id,
                        type="fridge",
                        model="FR-300",
                        customer_id=f"c-{b}-{i}",
                        lat=31.23 + 0.001 * i,
                        lon=121.47,
                        production_batch=batch,
                        customer_tier="standard",
                        created_at=NOW - 60 * DAY,
                    )
                )
                codes = ["FRIDGE_TEMP_DRIFT"] * (1 if i < faults else 0)
                codes += ["DEVICE_OFFLINE"] * (1 if i < offline else 0)
                for code in codes:
                    session.add(
                        TicketRow(
                            device_id=device_id,
                            fault_code=code,
                            severity=2,
                            status="opened",
                            opened_at=NOW - 5 * DAY,
                            updated_at=NOW - 5 * DAY,
                            detected_at=NOW - 5 * DAY,
                            onset_at=NOW - 5 * DAY,
                            last_detected_at=NOW - 5 * DAY,
                            diagnosis={},
                        )
                    )


def _by(rates: list[cohorts.CohortRate], dimension: str) -> dict[str, cohorts.CohortRate]:
    return {r.cohort: r for r in rates if r.dimension == dimension}


def test_a_batch_with_a_high_fault_rate_is_flagged_and_the_desk_told_once(
    sessions: sessionmaker[Session],
) -> None:
    _fleet(sessions, {"B-01": 12, "B-02": 2, "B-03": 2}, offline=10)
    with sessions.begin() as session:
        flagged = cohorts.notify_desk(session=session, now=NOW, config=CONFIG)
        again = cohorts.notify_desk(session=session, now=NOW + 60, config=CONFIG)
        rates = cohorts.surveil(session=session, now=NOW, config=CONFIG)
        notices = [
            row
            for row in outbox.list_page(session=session, audience="desk")
            if row.kind == "cohort_alert"
        ]
    assert [(c.dimension, c.cohort) for c in flagged] == [("batch", "B-01")]
    assert [(c.dimension, c.cohort) for c in again] == [("batch", "B-01")]
    assert len(notices) == 1 and "B-01" in notices[0].subject
    batch = _by(rates, "batch")
    b1 = batch["B-01"]
    # 30 days x 20 devices of exposure each; offline tickets are not hardware faults.
    assert b1.faults == 12 and b1.devices == 20
    assert b1.exposure_days == pytest.approx(600.0)
    assert b1.rate == pytest.approx(1000 * 12 / 600)
    assert b1.rest_rate == pytest.approx(1000 * 4 / 1200)
    assert b1.ratio == pytest.approx(6.0)
    assert b1.q_value <= CONFIG.cohort_fdr < batch["B-02"].q_value
    assert not batch["B-02"].flagged and not batch["B-03"].flagged
    # One model and one region: nothing to compare against.
    assert _by(rates, "model")["FR-300"].p_value == 1.0
    assert not any(r.flagged for r in rates if r.dimension != "batch")


def test_equal_rates_flag_nothing(sessions: sessionmaker[Session]) -> None:
    _fleet(sessions, {f"B-{i:02d}": 3 for i in range(8)})
    with sessions() as session:
        rates = cohorts.surveil(session=session, now=NOW, config=CONFIG)
    assert rates and not any(r.flagged for r in rates)


def test_a_lone_low_p_value_among_many_cohorts_is_not_flagged(
    sessions: sessionmaker[Session],
) -> None:
    """Twenty batches, one with five faults against one each: p < 0.05 by itself, but after
    Benjamini–Hochberg across all cohorts it is what twenty tries would give by chance."""
    _fleet(sessions, {f"B-{i:02d}": 5 if i == 0 else 1 for i in range(20)}, devices_per_batch=10)
    with sessions() as session:
        rates = cohorts.surveil(session=session, now=NOW, config=CONFIG)
    lone = _by(rates, "batch")["B-00"]
    assert lone.p_value < 0.05 < lone.q_value
    assert not lone.flagged


@given(
    faults=st.integers(0, 40),
    rest=st.integers(0, 40),
    exposure=st.floats(1.0, 1000.0),
    rest_exposure=st.floats(1.0, 1000.0),
)
def test_the_rate_test_is_a_probability_that_falls_as_the_cohort_gets_worse(
    faults: int, rest: int, exposure: float, rest_exposure: float
) -> None:
    p = cohorts.rate_test(faults, exposure, rest, rest_exposure)
    worse = cohorts.rate_test(faults + 1, exposure, rest, rest_exposure)
    assert 0.0 <= p <= 1.0
    assert worse <= p + 1e-12


def test_regions_are_half_degree_cells() -> None:
    assert cohorts.region_of(31.23, 121.47) == cohorts.region_of(31.1, 121.6) == "31.0N 121.5E"
    assert cohorts.region_of(-33.87, -70.65) == "34.0S 70.5W"
