"""The generic streaming detector: streaming, deterministic, resumable, and it finds changes."""

from __future__ import annotations

import doctest
import json
import math
import pickle
from typing import Any

import numpy as np
import pytest

import detection.generic
from detection.generic import DetectorStateError, GenericDetector, alert_level_for
from detection.nab.runner import run_detector

CHANGE_ROW = 1500


def fast(**params: Any) -> GenericDetector:
    """Small memory and history keep the tests fast; the behaviour is the same."""
    return GenericDetector(**{"memory": 600, "history": 2000, "probation": 600, **params})


def noisy_sine(n: int, seed: int = 1) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (20.0 + 5.0 * np.sin(2 * np.pi * t / 144) + rng.normal(0.0, 0.3, n)).tolist()


def scores_of(values: list[float], **params: Any) -> list[float]:
    detector = fast(**params)
    return [detector.update(float(i), v) for i, v in enumerate(values)]


def normal_then_changed(values: list[float]) -> tuple[list[float], list[float]]:
    """The scores after probation and before the change, and those from the change on."""
    scores = scores_of(values)
    return scores[600:CHANGE_ROW], scores[CHANGE_ROW : CHANGE_ROW + 100]


def test_same_stream_gives_same_scores() -> None:
    values = noisy_sine(1500)
    assert scores_of(values) == scores_of(values)


def test_a_rows_score_does_not_depend_on_later_rows() -> None:
    values = noisy_sine(1500)
    changed = values[:1000] + [v * 3.0 + 50.0 for v in values[1000:]]
    assert scores_of(values)[:1000] == scores_of(changed)[:1000]


def test_scores_stay_in_zero_to_one_on_awkward_streams() -> None:
    rng = np.random.default_rng(5)
    streams = [
        [7.0] * 800,
        noisy_sine(1200),
        rng.standard_cauchy(1200).tolist(),
        [float(i % 2) * 1e6 for i in range(800)],
        [1e12 + float(i) for i in range(800)],
    ]
    for values in streams:
        scores = scores_of(values)
        assert all(0.0 <= s <= 1.0 for s in scores)


def test_alert_level_is_the_log_of_a_tail_probability_of_one_in_100000() -> None:
    assert GenericDetector().alert_level == pytest.approx(0.5, abs=1e-5)
    assert alert_level_for(1e-10) == pytest.approx(math.log(2e-10) / math.log(1e-10))
    assert alert_level_for(1.0) == pytest.approx(0.0, abs=1e-9)


def test_clean_sine_stays_below_the_alert_level() -> None:
    values = [10.0 + math.sin(2 * math.pi * i / 100) for i in range(2500)]
    detector = fast()
    scores = [detector.update(float(i), v) for i, v in enumerate(values)]
    assert max(scores) < detector.alert_level


def test_probation_rows_score_zero() -> None:
    values = noisy_sine(1000)
    values[400] += 50.0  # far out of range, but still learning
    assert max(scores_of(values)[:600]) == 0.0


def test_short_stream_is_scored_from_the_end_of_its_probation() -> None:
    # An hourly stream of 1600 rows has a NAB probation of 240 rows; a burst at row 320
    # must be seen, however long the detector's own default warm-up is.
    rng = np.random.default_rng(11)
    t = np.arange(1600)
    values = 50.0 + 10.0 * np.sin(2 * np.pi * t / 24) + rng.normal(0.0, 1.0, 1600)
    values[320:330] += 15.0
    detector = GenericDetector(probation=240)
    scores = [detector.update(float(i), float(v)) for i, v in enumerate(values)]
    assert max(scores[:240]) == 0.0 < max(scores[240:320])
    assert max(scores[240:320]) < detector.alert_level <= max(scores[320:330])


def test_level_shift_scores_above_the_normal_stream_and_alerts_once() -> None:
    values = noisy_sine(2000)
    values[CHANGE_ROW:] = [v + 8.0 for v in values[CHANGE_ROW:]]
    normal, changed = normal_then_changed(values)
    detector = fast()
    scores = [detector.update(float(i), v) for i, v in enumerate(values)]
    alerts = [i for i, s in enumerate(scores) if s >= detector.alert_level]
    assert max(changed) > max(normal)
    assert max(normal) < detector.alert_level
    assert alerts and CHANGE_ROW <= alerts[0] <= CHANGE_ROW + 10
    # After the alert, the rest period keeps the shift from raising a burst of alerts.
    rest = scores[alerts[0] + 1 : alerts[0] + 1 + detector.rest_rows]
    assert len(rest) == detector.rest_rows == 120 and all(s == 0.0 for s in rest)


def test_spike_inside_the_usual_range_scores_above_the_normal_stream() -> None:
    # A jump of 8 within a swing of 10: no value is out of range, the shape is new.
    values = noisy_sine(2000)
    values[CHANGE_ROW] += 8.0 if values[CHANGE_ROW] < 20.0 else -8.0
    normal, changed = normal_then_changed(values)
    assert max(changed) > max(normal)
    assert max(changed) >= fast().alert_level


def test_change_of_variance_scores_above_the_normal_stream() -> None:
    values = noisy_sine(2000)
    rng = np.random.default_rng(3)
    values[CHANGE_ROW:] = [v + rng.normal(0.0, 1.2) for v in values[CHANGE_ROW:]]
    normal, changed = normal_then_changed(values)
    assert max(changed) > max(normal)
    assert max(changed) >= fast().alert_level


def test_pattern_change_inside_the_usual_range_raises_an_alert() -> None:
    # The daily swing stops and the value sits at its usual mean: no value is new, the
    # shape is.
    values = noisy_sine(2000)
    rng = np.random.default_rng(2)
    values[CHANGE_ROW:] = (20.0 + rng.normal(0.0, 0.3, 500)).tolist()
    normal, changed = normal_then_changed(values)
    assert max(changed) >= fast().alert_level > max(normal)


def test_value_far_outside_the_range_seen_scores_one() -> None:
    detector = fast()
    for i, v in enumerate(noisy_sine(800)):
        detector.update(float(i), v)
    assert detector.score_one(100.0) == 1.0


def test_score_one_changes_nothing_and_matches_update() -> None:
    values = noisy_sine(900)
    detector = fast()
    twin = fast()
    for i, v in enumerate(values):
        first = detector.score_one(v, float(i))
        assert detector.score_one(v + 1.0, float(i)) >= 0.0  # a different candidate
        assert detector.score_one(v, float(i)) == first
        detector.learn_one(v, float(i))
        assert twin.update(float(i), v) == first


def test_state_round_trip_mid_stream_gives_identical_scores() -> None:
    values = noisy_sine(1600)
    values[1300:] = [v - 6.0 for v in values[1300:]]
    whole = scores_of(values)
    detector = fast()
    for i, v in enumerate(values[:1000]):
        detector.update(float(i), v)
    saved = json.loads(json.dumps(detector.state()))
    resumed = GenericDetector.from_state(saved)
    pickled = pickle.loads(pickle.dumps(detector))
    rest = [resumed.update(float(i), v) for i, v in enumerate(values[1000:], start=1000)]
    again = [pickled.update(float(i), v) for i, v in enumerate(values[1000:], start=1000)]
    assert rest == whole[1000:] == again
    assert max(rest) >= detector.alert_level  # the shift at 1300 is in what was compared


def test_state_from_another_version_is_refused() -> None:
    state = fast().state()
    with pytest.raises(DetectorStateError, match="version"):
        GenericDetector.from_state({**state, "version": 1})
    with pytest.raises(DetectorStateError, match="shape"):
        GenericDetector.from_state({**state, "values": [1.0, 2.0]})
    with pytest.raises(DetectorStateError, match="incomplete"):
        GenericDetector.from_state({k: v for k, v in state.items() if k != "raw_count"})


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="probation"):
        GenericDetector(probation=2)
    with pytest.raises(ValueError, match="alert_level"):
        GenericDetector(alert_level=0.0)


def test_non_finite_values_are_refused() -> None:
    detector = fast()
    with pytest.raises(ValueError, match="non-finite"):
        detector.update(0.0, math.nan)


def test_runner_scores_every_row_with_a_fresh_detector() -> None:
    values = noisy_sine(700)
    stamps = [float(i) * 300.0 for i in range(700)]
    scores = run_detector(stamps, values, fast)
    assert scores == run_detector(stamps, values, fast)
    assert len(scores) == 700 and all(0.0 <= s <= 1.0 for s in scores)


def test_module_example_holds() -> None:
    assert doctest.testmod(detection.generic).failed == 0
