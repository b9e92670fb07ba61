"""The NAB scorer: NAB's own sanity checks, its weighting rules, and the published numbers."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from detection.nab.scoring import (
    NAB_PROFILES,
    CostMatrix,
    ScoredFile,
    ScoringError,
    best_threshold,
    normalised_score,
    probation_rows,
    scaled_sigmoid,
    score_corpus,
    score_file,
    sweep_thresholds,
    window_rows,
)

# The NAB subset lives in `shared/`, beside the checkout (the repository's parent folder).
NAB_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "nab"
STANDARD = NAB_PROFILES["standard"]
needs_nab = pytest.mark.skipif(
    not (NAB_DIR / "labels_windows.json").is_file(),
    reason=f"NAB subset not found at {NAB_DIR} (expected ../shared/nab beside the checkout)",
)

# A small corpus shaped like NAB's: file lengths, and windows of 10% of a file.
CORPUS = {
    "a.csv": (4032, [(2679, 3081)]),
    "b.csv": (4032, [(2014, 2148), (3328, 3462), (3956, 4031)]),
    "c.csv": (9000, [(1000, 1450), (6000, 6450)]),
    "d.csv": (2000, []),
}


def corpus(scores_for) -> list[ScoredFile]:
    return [ScoredFile(name, scores_for(n, w), w) for name, (n, w) in CORPUS.items()]


def first_rows(n: int, windows: list[tuple[int, int]]) -> list[float]:
    scores = [0.0] * n
    for first, _ in windows:
        scores[first] = 1.0
    return scores


def test_scaled_sigmoid_matches_nab_at_the_window_edges() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0
    assert scaled_sigmoid(10.0) == -1.0


def test_probation_is_15_percent_capped_at_750_rows() -> None:
    assert probation_rows(4032) == 604
    assert probation_rows(1882) == 282
    assert probation_rows(22695) == 750
    assert probation_rows(5000) == 750


def test_null_detector_scores_exactly_zero() -> None:
    result = score_corpus(corpus(lambda n, w: [0.0] * n), STANDARD)
    assert result.normalised_score == 0.0
    assert result.raw_score == result.null_score == -6.0


def test_firing_only_on_each_windows_first_row_scores_100() -> None:
    result = score_corpus(corpus(first_rows), STANDARD)
    assert result.normalised_score == 100.0
    assert result.threshold == 1.0
    assert all(f.fp == 0 for f in result.files)


def test_window_starting_in_probation_scores_a_hair_under_100() -> None:
    # Probation of a 1000-row file is 150 rows: the window's first scorable row is 150.
    files = [
        ScoredFile("early.csv", first_rows(1000, [(150, 300)]), [(100, 300)]),
        ScoredFile("late.csv", first_rows(4032, [(2000, 2400)]), [(2000, 2400)]),
    ]
    score = score_corpus(files, STANDARD).normalised_score
    assert 97.0 < score < 100.0


def test_firing_on_every_row_after_probation_scores_far_below_zero() -> None:
    always = corpus(lambda n, w: [1.0] * n)
    assert score_corpus(always, STANDARD, threshold=0.5).normalised_score < -1000.0
    # Left to choose, the sweep prefers detecting nothing at all.
    assert score_corpus(always, STANDARD).normalised_score == 0.0


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    scores = [0.0] * 1000
    scores[500] = scores[550] = scores[599] = 1.0
    one = score_file(ScoredFile("f", scores, [(500, 599)]), 0.5, STANDARD)
    assert one.raw_score == pytest.approx(1.0)
    assert (one.tp, one.fp, one.windows_detected) == (3, 0, 1)
    late = [0.0] * 1000
    late[599] = 1.0
    last_row = score_file(ScoredFile("f", late, [(500, 599)]), 0.5, STANDARD)
    expected = scaled_sigmoid(-1 / 100) / scaled_sigmoid(-1.0)
    assert last_row.raw_score == pytest.approx(expected)


def test_false_positive_costs_less_just_after_a_window_than_far_from_it() -> None:
    def fp_at(row: int) -> float:
        scores = [0.0] * 2000
        scores[500] = scores[row] = 1.0
        return score_file(ScoredFile("f", scores, [(500, 599)]), 0.5, STANDARD).raw_score - 1.0

    assert fp_at(620) == pytest.approx(0.11 * scaled_sigmoid(21 / 99))
    assert fp_at(700) < fp_at(620) < 0.0
    assert fp_at(1500) == pytest.approx(-0.11)
    # Before any window, a false positive costs the full fp weight.
    scores = [0.0] * 2000
    scores[400] = 1.0
    alone = score_file(ScoredFile("f", scores, [(500, 599)]), 0.5, STANDARD)
    assert alone.raw_score == pytest.approx(-1.0 - 0.11)


def test_threshold_sweep_counts_ties_and_matches_direct_scoring() -> None:
    rng = np.random.default_rng(3)
    files = corpus(lambda n, w: np.round(rng.random(n) ** 6, 2).tolist())
    sweep = sweep_thresholds(files, STANDARD)
    assert sweep[0].threshold == 1.1 and sweep[0].raw_score == -6.0
    thresholds = [s.threshold for s in sweep]
    assert thresholds == sorted(thresholds, reverse=True)
    for entry in sweep[1::7]:
        direct = [score_file(f, entry.threshold, STANDARD) for f in files]
        assert entry.raw_score == pytest.approx(sum(d.raw_score for d in direct), abs=1e-9)
        assert entry.tp == sum(d.tp for d in direct) and entry.fp == sum(d.fp for d in direct)


def test_threshold_is_chosen_once_across_files() -> None:
    # File x is best served by 0.9, file y by 0.5; together 0.9 wins by less FP cost.
    x = [0.0] * 1000
    x[500] = 0.9
    x[700:720] = [0.5] * 20
    y = [0.0] * 1000
    y[600] = 0.5
    files = [ScoredFile("x", x, [(500, 599)]), ScoredFile("y", y, [(600, 699)])]
    best = best_threshold(files, STANDARD)
    per_threshold = {
        t: sum(score_file(f, t, STANDARD).raw_score for f in files) for t in (0.9, 0.5)
    }
    assert best.threshold == max(per_threshold, key=lambda t: per_threshold[t])
    assert best.raw_score == pytest.approx(max(per_threshold.values()))


def test_equal_raw_scores_pick_the_highest_threshold() -> None:
    scores = [0.0] * 1000
    scores[500] = 0.9
    scores[550] = 0.7  # later in the same window: adds nothing at threshold 0.7
    files = [ScoredFile("f", scores, [(500, 599)])]
    sweep = {s.threshold: s.raw_score for s in sweep_thresholds(files, STANDARD)}
    assert sweep[0.9] == sweep[0.7]
    assert best_threshold(files, STANDARD).threshold == 0.9


def test_profiles_weigh_false_negatives_and_false_positives() -> None:
    low_fn = score_corpus(corpus(lambda n, w: [0.0] * n), NAB_PROFILES["reward_low_FN_rate"])
    assert low_fn.null_score == -12.0 and low_fn.normalised_score == 0.0
    costs = CostMatrix.from_profile(
        {"CostMatrix": {"tpWeight": 1, "fpWeight": 0.22, "fnWeight": 1}}
    )
    assert costs == NAB_PROFILES["reward_low_FP_rate"]


def test_windows_map_to_rows_like_nab_even_with_repeated_timestamps() -> None:
    stamps = [0.0, 60.0, 60.0, 120.0, 180.0, 170.0, 240.0, 300.0]
    assert window_rows(stamps, [(60.0, 180.0)]) == [(1, 4)]
    assert window_rows(stamps, [(90.0, 250.0)]) == [(3, 6)]
    assert window_rows(stamps, [(400.0, 500.0)]) == []


def test_bad_scores_and_windows_are_rejected() -> None:
    with pytest.raises(ScoringError, match=r"\[0, 1\]"):
        score_corpus([ScoredFile("f", [0.5, math.nan], [])], STANDARD)
    with pytest.raises(ScoringError, match="disjoint"):
        score_corpus([ScoredFile("f", [0.0] * 10, [(2, 5), (4, 8)])], STANDARD)


@needs_nab
def test_published_per_file_scores_normalise_to_the_readme_figures() -> None:
    totals: dict[str, float] = defaultdict(float)
    with (NAB_DIR / "reference" / "standard_scores_per_file.csv").open() as handle:
        for row in csv.DictReader(handle):
            totals[row["Detector"]] += float(row["Score"])
    windows = sum(
        len(w) for w in json.loads((NAB_DIR / "labels_windows.json").read_text()).values()
    )
    assert windows == 25

    def normalised(detector: str) -> float:
        return normalised_score(totals[detector], -float(windows), float(windows))

    assert normalised("ARTime") == pytest.approx(65.2, abs=0.05)
    assert normalised("numenta") == pytest.approx(58.1, abs=0.05)
    assert normalised("windowedGaussian") == pytest.approx(10.8, abs=0.05)
    assert normalised("null") == 0.0


@needs_nab
def test_readme_checks_on_the_real_labels() -> None:
    labels = json.loads((NAB_DIR / "labels_windows.json").read_text())

    def parse(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    null, firsts = [], []
    for name, windows in labels.items():
        with (NAB_DIR / "data" / name).open() as handle:
            stamps = [parse(row["timestamp"]) for row in csv.DictReader(handle)]
        rows = window_rows(stamps, [(parse(a), parse(b)) for a, b in windows])
        assert len(rows) == len(windows)
        null.append(ScoredFile(name, [0.0] * len(stamps), rows))
        firsts.append(ScoredFile(name, first_rows(len(stamps), rows), rows))
    assert score_corpus(null, STANDARD).normalised_score == 0.0
    assert score_corpus(firsts, STANDARD).normalised_score == 100.0
