"""The Numenta Anomaly Benchmark (NAB v1.1) scoring rules, as pure functions over rows.

Matches NAB's ``nab/sweeper.py``: a probation period per file, a scaled sigmoid that rewards
the earliest detection in each labelled window, false positives weighted by their distance
past the previous window, one threshold per detector and profile chosen across all files to
maximise the summed raw score, and a score normalised against the null detector.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

PROBATION_PERCENT = 0.15
# NAB caps the probation period at probation_percent * 5000 rows.
PROBATION_CAP_ROWS = 5000
# The sweep's first threshold: above every score, so nothing is detected.
NO_DETECTION_THRESHOLD = 1.1


class ScoringError(ValueError):
    """Scores or windows that NAB cannot score (bad values, unordered or overlapping windows)."""


@dataclass(frozen=True)
class CostMatrix:
    """The weights of one NAB application profile."""

    tp_weight: float = 1.0
    fp_weight: float = 0.11
    fn_weight: float = 1.0

    @classmethod
    def from_profile(cls, profile: Mapping[str, object]) -> CostMatrix:
        """Read NAB's ``{"CostMatrix": {"tpWeight": …, "fpWeight": …, "fnWeight": …}}``."""
        raw = profile.get("CostMatrix", profile)
        if not isinstance(raw, Mapping):
            raise ScoringError(f"profile has no CostMatrix mapping: {profile!r}")
        try:
            return cls(
                tp_weight=float(raw["tpWeight"]),
                fp_weight=float(raw["fpWeight"]),
                fn_weight=float(raw["fnWeight"]),
            )
        except KeyError as exc:
            raise ScoringError(f"CostMatrix lacks {exc.args[0]!r}: {raw!r}") from exc


# The three published profiles (NAB's config/profiles.json).
NAB_PROFILES: Mapping[str, CostMatrix] = {
    "standard": CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=1.0),
    "reward_low_FP_rate": CostMatrix(tp_weight=1.0, fp_weight=0.22, fn_weight=1.0),
    "reward_low_FN_rate": CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=2.0),
}


@dataclass(frozen=True)
class ScoredFile:
    """One file's anomaly scores (one per row, in [0, 1]) and its labelled windows.

    ``windows`` are inclusive ``(first_row, last_row)`` pairs, ascending and disjoint; see
    :func:`window_rows` to derive them from timestamps.
    """

    name: str
    scores: Sequence[float]
    windows: Sequence[tuple[int, int]]


@dataclass(frozen=True)
class ThresholdScore:
    """The corpus raw score when every row scoring at least ``threshold`` is a detection."""

    threshold: float
    raw_score: float
    tp: int
    fp: int
    fn: int
    tn: int


@dataclass(frozen=True)
class FileScore:
    """One file's raw score at the chosen threshold; counts are of scorable rows, like NAB's."""

    name: str
    raw_score: float
    tp: int
    fp: int
    fn: int
    tn: int
    windows_detected: int
    windows: int


@dataclass(frozen=True)
class CorpusScore:
    """A detector's NAB result for one profile."""

    threshold: float
    raw_score: float
    null_score: float
    perfect_score: float
    normalised_score: float
    files: tuple[FileScore, ...]


def scaled_sigmoid(position: float) -> float:
    """NAB's ``2·sigmoid(-5·position) - 1``, and -1 from position 3 on.

    ``-1`` (a window's left edge) gives 0.9866, ``0`` (its right edge) gives 0.
    """
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(n_rows: int, probation_percent: float = PROBATION_PERCENT) -> int:
    """How many leading rows of a file are a learning period that scoring ignores."""
    length = min(math.floor(probation_percent * n_rows), probation_percent * PROBATION_CAP_ROWS)
    # NAB scores row i when i >= length; for a fractional length that is i >= ceil(length).
    return math.ceil(length)


def window_rows(
    timestamps: Sequence[float], windows: Sequence[tuple[float, float]]
) -> list[tuple[int, int]]:
    """Map ``(start, end)`` windows in timestamp units to inclusive row ranges.

    As NAB does, a window opens at the first row stamped ``start`` and closes at the first
    later row stamped ``end``; this tolerates the odd repeated or backward timestamp in real
    streams. A window whose edges fall between rows opens at the first row past ``start``
    and closes at the last row before one past ``end``. A window covering no row is dropped.
    """
    ts = list(timestamps)
    rows: list[tuple[int, int]] = []
    row = 0
    for start, end in sorted(windows):
        if end < start:
            raise ScoringError(f"window ends before it starts: ({start}, {end})")
        first = next((i for i in range(row, len(ts)) if ts[i] == start), None)
        if first is None:
            first = next((i for i in range(row, len(ts)) if ts[i] > start), len(ts))
        last = next((i for i in range(first, len(ts)) if ts[i] == end), None)
        if last is None:
            past = next((i for i in range(first, len(ts)) if ts[i] > end), len(ts))
            last = past - 1
        if first <= last:
            rows.append((first, last))
            row = last + 1
    return rows


@dataclass(frozen=True)
class _Sweep:
    """A file's scorable rows: their anomaly score, their NAB weight and their window."""

    scores: np.ndarray
    weights: np.ndarray
    window: np.ndarray  # index of the window the row lies in, -1 outside every window
    n_windows: int  # windows with at least one scorable row


def _check_scores(name: str, scores: Sequence[float]) -> np.ndarray:
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1:
        raise ScoringError(f"{name}: scores must be one number per row")
    if not np.all(np.isfinite(values)) or np.any(values < 0.0) or np.any(values > 1.0):
        raise ScoringError(f"{name}: anomaly scores must be finite numbers in [0, 1]")
    return values


def _check_windows(name: str, n_rows: int, windows: Sequence[tuple[int, int]]) -> None:
    previous_last = -1
    for first, last in windows:
        if not 0 <= first <= last < n_rows:
            raise ScoringError(f"{name}: window rows ({first}, {last}) outside 0..{n_rows - 1}")
        if first <= previous_last:
            raise ScoringError(f"{name}: windows must be ascending and disjoint")
        previous_last = last


def _sweep_file(scored: ScoredFile, costs: CostMatrix, probation_percent: float) -> _Sweep:
    """Weight every row the way NAB's ``Sweeper.calcSweepScore`` does."""
    scores = _check_scores(scored.name, scored.scores)
    n = len(scores)
    _check_windows(scored.name, n, scored.windows)
    weights = np.empty(n)
    window = np.full(n, -1, dtype=np.int64)
    max_tp = scaled_sigmoid(-1.0)
    previous: tuple[int, int] | None = None  # (right edge, width) of the last window passed
    row = 0
    bounds = [*scored.windows, (n, n)]  # a sentinel that closes the last gap
    for index, (first, last) in enumerate(bounds):
        for i in range(row, min(first, n)):
            if previous is None:
                position = 3.0
            else:
                right, width = previous
                position = abs(right - i) / (width - 1) if width > 1 else math.inf
            weights[i] = costs.fp_weight * scaled_sigmoid(position)
        if first >= n:
            break
        width = last - first + 1
        for i in range(first, last + 1):
            weights[i] = scaled_sigmoid(-(last - i + 1) / width) * costs.tp_weight / max_tp
        window[first : last + 1] = index
        previous = (last, width)
        row = last + 1
    start = probation_rows(n, probation_percent)
    kept_window = window[start:]
    n_windows = len(np.unique(kept_window[kept_window >= 0]))
    return _Sweep(scores[start:], weights[start:], kept_window, n_windows)


def sweep_thresholds(
    files: Sequence[ScoredFile],
    costs: CostMatrix,
    probation_percent: float = PROBATION_PERCENT,
) -> list[ThresholdScore]:
    """The corpus raw score at every distinct anomaly score, highest threshold first.

    The first entry (threshold 1.1) detects nothing; each later one detects every scorable
    row whose score is at least its threshold, as NAB's ``calcScoreByThreshold``.
    """
    sweeps = [_sweep_file(f, costs, probation_percent) for f in files]
    if not sweeps:
        return [ThresholdScore(NO_DETECTION_THRESHOLD, 0.0, 0, 0, 0, 0)]
    # Number the windows corpus-wide so that windows of different files stay apart.
    offsets = np.cumsum([0, *(len(f.windows) for f in files)])
    scores = np.concatenate([s.scores for s in sweeps])
    weights = np.concatenate([s.weights for s in sweeps])
    window = np.concatenate(
        [
            np.where(s.window >= 0, s.window + off, -1)
            for s, off in zip(sweeps, offsets[:-1], strict=True)
        ]
    )
    n_windows = sum(s.n_windows for s in sweeps)
    base = -costs.fn_weight * n_windows
    order = np.argsort(-scores, kind="stable")
    s_sorted, w_sorted, win_sorted = scores[order], weights[order], window[order]
    in_window = win_sorted >= 0
    # A false positive adds its weight; a window's part rises only when a detection earlier
    # in it (with a larger weight) joins, from -fn_weight to that weight.
    delta = np.where(in_window, 0.0, w_sorted)
    best: dict[int, float] = {}
    for j in np.flatnonzero(in_window):
        key = int(win_sorted[j])
        old = best.get(key, -costs.fn_weight)
        if w_sorted[j] > old:
            delta[j] = w_sorted[j] - old
            best[key] = float(w_sorted[j])
    total = base + np.cumsum(delta)
    tp = np.cumsum(in_window)
    fp = np.cumsum(~in_window)
    n_in, n_out = int(in_window.sum()), int((~in_window).sum())
    # The score at a threshold counts every row tied with it, so take the last of each run.
    ends = np.flatnonzero(np.append(s_sorted[1:] != s_sorted[:-1], True))
    result = [ThresholdScore(NO_DETECTION_THRESHOLD, base, 0, 0, n_in, n_out)]
    for j in ends if len(s_sorted) else []:
        result.append(
            ThresholdScore(
                threshold=float(s_sorted[j]),
                raw_score=float(total[j]),
                tp=int(tp[j]),
                fp=int(fp[j]),
                fn=n_in - int(tp[j]),
                tn=n_out - int(fp[j]),
            )
        )
    return result


def best_threshold(
    files: Sequence[ScoredFile],
    costs: CostMatrix,
    probation_percent: float = PROBATION_PERCENT,
) -> ThresholdScore:
    """The threshold that maximises the corpus raw score; ties go to the highest threshold."""
    sweep = sweep_thresholds(files, costs, probation_percent)
    return max(sweep, key=lambda s: s.raw_score)  # max keeps the first of equal scores


def score_file(
    scored: ScoredFile,
    threshold: float,
    costs: CostMatrix,
    probation_percent: float = PROBATION_PERCENT,
) -> FileScore:
    """One file's raw score when rows scoring at least ``threshold`` are detections."""
    sweep = _sweep_file(scored, costs, probation_percent)
    detected = sweep.scores >= threshold
    in_window = sweep.window >= 0
    raw = float(np.sum(sweep.weights[detected & ~in_window]))
    windows_detected = 0
    for key in np.unique(sweep.window[in_window]):
        hits = detected & (sweep.window == key)
        if hits.any():
            raw += float(np.max(sweep.weights[hits]))
            windows_detected += 1
        else:
            raw -= costs.fn_weight
    return FileScore(
        name=scored.name,
        raw_score=raw,
        tp=int(np.sum(detected & in_window)),
        fp=int(np.sum(detected & ~in_window)),
        fn=int(np.sum(~detected & in_window)),
        tn=int(np.sum(~detected & ~in_window)),
        windows_detected=windows_detected,
        windows=sweep.n_windows,
    )


def normalised_score(raw: float, null: float, perfect: float) -> float:
    """NAB's ``100 · (raw - null) / (perfect - null)``: 0 for the null detector, 100 perfect."""
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)


def score_corpus(
    files: Sequence[ScoredFile],
    costs: CostMatrix,
    probation_percent: float = PROBATION_PERCENT,
    threshold: float | None = None,
) -> CorpusScore:
    """Score a detector over files scored together, at ``threshold`` or at the best one.

    The null detector's raw score is ``-fn_weight`` per window that has scorable rows; the
    perfect score is ``tp_weight`` per labelled window.
    """
    if threshold is None:
        threshold = best_threshold(files, costs, probation_percent).threshold
    per_file = tuple(score_file(f, threshold, costs, probation_percent) for f in files)
    raw = sum(f.raw_score for f in per_file)
    null = -costs.fn_weight * sum(f.windows for f in per_file)
    perfect = costs.tp_weight * sum(len(f.windows) for f in files)
    return CorpusScore(
        threshold=threshold,
        raw_score=raw,
        null_score=null,
        perfect_score=perfect,
        normalised_score=normalised_score(raw, null, perfect),
        files=per_file,
    )
