"""Battery prognosis on synthetic fades whose end of life is known: the knee fade model,
its regeneration-proof fit, the predictive band, the bounded capacity history, and the
projection's round trip."""

from __future__ import annotations

import doctest
import json
import math

import numpy as np
import pytest

import detection.fade_history
import detection.knee_fade
import detection.prognosis
from detection.fade_history import CapacityHistory
from detection.knee_fade import KneeFadeModel
from detection.prognosis import EolProjection, FadeFit

EOL = 0.70
SHAPE_SD = 0.5
Z = 1.645


def _fit(age: np.ndarray, soh: np.ndarray) -> FadeFit:
    return KneeFadeModel().fit(age, soh, np.ones_like(age), threshold=EOL)


def _noisy(soh: np.ndarray, seed: int, sd: float = 0.002) -> np.ndarray:
    return soh + np.random.default_rng(seed).normal(0.0, sd, soh.size)


def test_a_straight_fade_is_projected_to_its_crossing_inside_the_band() -> None:
    age = np.arange(0.0, 80.0)
    fit = _fit(age, _noisy(0.95 - 0.002 * age, seed=1))
    p = fit.projection(EOL, shape_sd=SHAPE_SD, z=Z)
    assert p.slope == pytest.approx(-0.002, rel=0.1)
    assert p.level == pytest.approx(0.95 - 0.002 * 79, abs=0.005)
    assert p.central == pytest.approx(125, abs=5)
    assert p.earliest < 125 < p.latest
    assert p.remaining() == (p.earliest - 79, p.central - 79, p.latest - 79)
    assert p.slope_t < -10


def test_after_a_knee_the_projection_follows_the_faster_fade() -> None:
    # 0.05 % a cycle for 300 cycles, then 0.3 % a cycle: end of life at cycle 333, where
    # a straight line through all of it would put it past cycle 400.
    age = np.arange(0.0, 316.0)
    soh = _noisy(0.95 - 0.0005 * age - 0.0025 * np.maximum(age - 300.0, 0.0), seed=2)
    p = _fit(age, soh).projection(EOL, shape_sd=SHAPE_SD, z=Z)
    assert p.central == pytest.approx(333, abs=5)
    assert p.earliest <= 333 <= p.latest
    straight = np.polyfit(age, soh, 1)
    assert (EOL - straight[1]) / straight[0] > 400


def test_a_knee_is_where_fade_speeds_up_not_where_it_slows() -> None:
    # Fast at first, then slow (as the NASA cells after their first weeks): no knee
    # candidate may claim the past faded faster than it did, so the fit keeps the
    # whole-history view and does not extrapolate only the slow tail.
    age = np.arange(0.0, 120.0)
    soh = _noisy(0.95 - 0.003 * np.minimum(age, 60.0) - 0.001 * np.maximum(age - 60.0, 0.0), 3)
    fit = _fit(age, soh)
    assert all(w > 0 for w in fit.weights)
    assert len(fit.weights) < KneeFadeModel().knee_candidates


def test_regeneration_jumps_neither_lift_the_trend_nor_read_as_recovery() -> None:
    age = np.arange(0.0, 100.0)
    truth = 0.95 - 0.002 * age
    soh = _noisy(truth, seed=4)
    for rest in (30, 55, 80):  # +6 % after a rest, fading back over ten cycles
        soh[rest : rest + 10] += 0.06 * np.exp(-np.arange(10) / 3.0)
    fit = _fit(age[:85], soh[:85])  # five cycles after the last jump
    assert fit.level == pytest.approx(truth[84], abs=0.01)
    assert fit.slope == pytest.approx(-0.002, rel=0.25)
    clean = _fit(age[:85], _noisy(truth, seed=4)[:85])
    p, q = (f.projection(EOL, shape_sd=SHAPE_SD, z=Z) for f in (fit, clean))
    assert abs(p.central - q.central) < 8


def test_a_flat_pack_is_never_projected_to_end_of_life() -> None:
    age = np.arange(0.0, 60.0)
    p = _fit(age, _noisy(np.full(60, 0.9), seed=5)).projection(EOL, shape_sd=SHAPE_SD, z=Z)
    assert math.isinf(p.latest)
    assert p.central > 500
    assert abs(p.slope_t) < 3


def test_a_pack_already_past_end_of_life_is_projected_at_now() -> None:
    age = np.arange(0.0, 40.0)
    p = _fit(age, _noisy(0.75 - 0.003 * age, seed=6)).projection(EOL, shape_sd=SHAPE_SD, z=Z)
    assert p.central == p.x == 39
    assert p.earliest == 39


def test_a_wider_shape_sd_widens_the_band_around_the_same_fit() -> None:
    age = np.arange(0.0, 60.0)
    fit = _fit(age, _noisy(0.9 - 0.002 * age, seed=7))
    narrow = fit.projection(EOL, shape_sd=0.1, z=Z)
    wide = fit.projection(EOL, shape_sd=0.6, z=Z)
    assert wide.earliest < narrow.earliest < narrow.central < narrow.latest < wide.latest
    assert fit.probability_by(0.0, EOL, shape_sd=0.3) < 0.01
    ps = [fit.probability_by(h, EOL, shape_sd=0.3) for h in (10.0, 40.0, 80.0, 200.0)]
    assert ps == sorted(ps) and ps[-1] > 0.99


def test_fitting_needs_three_samples() -> None:
    with pytest.raises(ValueError, match="three samples"):
        KneeFadeModel().fit(np.arange(2.0), np.ones(2), np.ones(2), threshold=EOL)


def test_the_history_stays_bounded_and_keeps_the_weighted_mean_of_what_it_merges() -> None:
    history = CapacityHistory(max_samples=16)
    for cycle in range(200):
        history.add(float(cycle), 1.0 - 0.001 * cycle)
    assert len(history) <= 16 and history.count == 200
    assert sum(history.weights()) == 200
    ages, levels, weights = (
        np.asarray(v) for v in (history.ages(), history.levels(), history.weights())
    )
    assert np.average(ages, weights=weights) == pytest.approx(99.5)
    assert np.allclose(levels, 1.0 - 0.001 * ages)  # merging a line keeps it on the line
    assert ages[-1] == 199 and weights[-1] == 1  # the newest stays sample by sample
    with pytest.raises(ValueError, match="must not decrease"):
        history.add(3.0, 0.9)


def test_the_history_resumes_exactly_from_its_state() -> None:
    whole, first = CapacityHistory(max_samples=8), CapacityHistory(max_samples=8)
    for cycle in range(11):
        whole.add(float(cycle), 0.9)
        first.add(float(cycle), 0.9)
    resumed = CapacityHistory.from_state(json.loads(json.dumps(first.state())), max_samples=8)
    for cycle in range(11, 30):
        whole.add(float(cycle), 0.9 - 0.001 * cycle)
        resumed.add(float(cycle), 0.9 - 0.001 * cycle)
    assert resumed.state() == whole.state()


def test_a_projection_round_trips_through_json_with_its_infinities() -> None:
    age = np.arange(0.0, 30.0)
    p = _fit(age, _noisy(np.full(30, 0.9), seed=8)).projection(EOL, shape_sd=SHAPE_SD, z=Z)
    assert math.isinf(p.latest)
    data = json.loads(json.dumps(p.as_dict(), allow_nan=False))
    assert EolProjection.from_dict(data) == p


def test_the_same_samples_give_the_same_projection() -> None:
    age = np.arange(0.0, 90.0)
    soh = _noisy(0.95 - 0.0005 * age - 0.004 * np.maximum(age - 50, 0), seed=9)
    a = _fit(age, soh).projection(EOL, shape_sd=SHAPE_SD, z=Z)
    b = _fit(age.copy(), soh.copy()).projection(EOL, shape_sd=SHAPE_SD, z=Z)
    assert a == b


@pytest.mark.parametrize(
    "module", [detection.prognosis, detection.knee_fade, detection.fade_history]
)
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
