"""The generic streaming detector: streaming, deterministic, resumable, and it finds shifts."""

from __future__ import annotations

import doctest
import json
import math
import pickle
from typing import Any

import numpy as np
import pytest

import detection.generic
from detection.generic import DetectorStateError, GenericDetector
from detection.nab.runner import run_detector


def fast(**params: Any) -> GenericDetector:
    """Small memory and history keep the tests fast; the behaviour is the same."""
    return GenericDetector(memory=600, history=2000, **params)


def noisy_sine(n: int, seed: int = 1) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (20.0 + 5.0 * np.sin(2 * np.pi * t / 144) + rng.normal(0.0, 0.3, n)).tolist()


def scores_of(values: list[float], **params: Any) -> list[float]:
    detector = fast(**params)
    return [detector.update(float(i), v) for i, v in enumerate(values)]


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


def test_clean_sine_stays_below_the_alert_level() -> None:
    values = [10.0 + math.sin(2 * math.pi * i / 100) for i in range(2500)]
    detector = fast()
    scores = [detector.update(float(i), v) for i, v in enumerate(values)]
    assert max(scores) < detector.alert_level


def test_level_shift_raises_an_alert_within_a_few_rows_and_only_one() -> None:
    values = noisy_sine(2000)
    values[1500:] = [v + 8.0 for v in values[1500:]]
    detector = fast()
    scores = [detector.update(float(i), v) for i, v in enumerate(values)]
    alerts = [i for i, s in enumerate(scores) if s >= detector.alert_level]
    assert max(scores[:1500]) < detector.alert_level
    assert alerts and 1500 <= alerts[0] <= 1510
    # After the alert, the quiet period keeps the shift from raising a burst of alerts.
    assert all(s == 0.0 for s in scores[alerts[0] + 1 : alerts[0] + 1 + detector.quiet_rows])


def test_pattern_change_inside_the_usual_range_raises_an_alert() -> None:
    # The daily swing stops and the value sits at its usual mean: no value is new, the
    # shape is.
    values = noisy_sine(2000)
    rng = np.random.default_rng(2)
    values[1500:] = (20.0 + rng.normal(0.0, 0.3, 500)).tolist()
    detector = fast()
    scores = [detector.update(float(i), v) for i, v in enumerate(values)]
    alerts = [i for i, s in enumerate(scores) if s >= detector.alert_level]
    assert max(scores[:1500]) < detector.alert_level
    assert alerts and 1500 <= alerts[0] <= 1550


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


def test_state_from_another_version_is_refused() -> None:
    state = fast().state()
    with pytest.raises(DetectorStateError, match="version"):
        GenericDetector.from_state({**state, "version": 99})
    with pytest.raises(DetectorStateError):
        GenericDetector.from_state({**state, "values": [1.0, 2.0]})


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
