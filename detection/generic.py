"""A generic streaming anomaly detector for one numeric metric that no device profile covers.

It is measured on the NAB benchmark streams with ``faultline eval nab``; every parameter comes
from a published method or from NAB's own rules, never from a search over benchmark scores:

- ``memory`` and ``history`` 8640 rows: NuPIC's anomaly-likelihood ``historicWindowSize``
  (30 days of 5-minute rows); the nearest-neighbour memory covers the same horizon.
- ``averaging`` 10 rows: the short-term window W' of Ahmad & Purdy (2016) and NuPIC.
- ``alert_level`` 0.5: the log score of a tail probability of 1e-5, the paper's threshold.
- ``probation`` 750 rows: NAB's probation cap (15 % of 5000 rows); NAB's runner gives each
  file its own, as NAB gives every detector. It splits into ``probation // 2`` learning rows
  and the rest for estimating the likelihood (NAB's HTM detector), and sets the rest period
  after an alert to ``probation // 5`` rows (NAB's setting for CAD OSE).
- ``range_tolerance`` 5 %: NAB's HTM detector's spatial-anomaly rule.
- ``scales``: a self-similar ladder, 8 points a scale (ARTime's window of 8 samples), each
  block the span of the scale below: 1, 8, 64 and 512 rows, the last over a day of 5-minute
  data. One nearest neighbour and a non-overlap exclusion: the matrix-profile discord.
- Student's t for a sample's predictive law, a Bonferroni factor over the scales, and a
  spread no smaller than 1e-6 of the range (rounding): statistics, not choices.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import stdtr

STATE_VERSION = 2
# log(q + 1e-10) / log(1e-10) maps a tail probability q to [0, 1] (NuPIC's log-likelihood).
_LOG_EPSILON = 1e-10
_LOG_SCALE = math.log(_LOG_EPSILON)
# Ahmad & Purdy flag a row when its likelihood exceeds 1 - 1e-5: a tail probability of 1e-5.
ALERT_TAIL = 1e-5
# A spread below this fraction of the range of values seen is rounding, not variation.
_PRECISION = 1e-6
# NAB's probation is 15 % of a stream, capped at 0.15 * 5000 = 750 rows.
NAB_PROBATION_CAP = 750


class DetectorStateError(ValueError):
    """A saved detector state that cannot be restored (wrong version or shape)."""


@dataclass(frozen=True)
class Scale:
    """A time scale of context: ``points`` consecutive block means of ``block`` rows each."""

    points: int
    block: int

    @property
    def span(self) -> int:
        """Rows covered by one context vector."""
        return self.points * self.block


# Each scale's blocks are the span of the scale below it (1, 8, 64 rows), eight points each:
# the value itself, then the last 8, 64 and 512 rows. 512 rows hold a day and more of
# 5-minute data (288 rows), the sampling of NAB's streams and of appliance telemetry.
DEFAULT_SCALES: tuple[Scale, ...] = (Scale(1, 1), Scale(8, 1), Scale(8, 8), Scale(8, 64))


def alert_level_for(tail: float) -> float:
    """The score of a tail probability ``tail``: ``log(tail + 1e-10) / log(1e-10)``."""
    return math.log(tail + _LOG_EPSILON) / _LOG_SCALE


@dataclass(frozen=True)
class _Evaluation:
    """What scoring one value found, kept so that learning it need not recompute it."""

    n: int
    value: float
    contexts: np.ndarray
    raws: np.ndarray
    comparable: np.ndarray
    score: float


class GenericDetector:
    """Scores each value of one numeric stream in [0, 1]; higher is more anomalous.

    ``score_one`` changes nothing; ``learn_one`` adds the value to the state; ``update``
    does both and returns the score. A score of ``alert_level`` or more is an alert.

    It knows nothing about the metric; it combines three published ideas:

    - **Discords at several scales** (the matrix profile's "left discord": Yeh et al. 2016,
      Lu et al. 2022). For each scale, the row's context is a vector of block means ending at
      this row; its raw novelty is the root-mean-square distance to its nearest neighbour
      among the contexts of the last ``memory`` rows that do not overlap it (the trivial-match
      exclusion: a context joins the memory ``span`` rows after it ends). Values are used as
      they are, so a level shift, a spike and a new shape all count, and the distance has the
      data's own units, which the next step divides out.
    - **Anomaly likelihood** (Ahmad & Purdy 2016, Ahmad et al. 2017, as in Numenta's HTM
      detector). Per scale, the mean raw novelty of the last ``averaging`` rows is compared
      with the mean and spread of the scale's last ``history`` raw values; the tail
      probability uses Student's t with the number of raw values seen (the predictive law of
      a new value from a sample, which becomes the paper's Gaussian as the sample grows), is
      multiplied by the number of scales that score (Bonferroni: the best of several tests is
      no stronger evidence than one), and becomes ``log(q + 1e-10) / log(1e-10)`` in [0, 1].
    - **NAB's HTM rules.** A value beyond the range seen so far by more than
      ``range_tolerance`` (5 %) of that range scores 1. The first ``probation`` rows are
      learning, as NAB's rules make them: raw values join the likelihood's history from
      ``probation // 2`` on and a scale scores once it holds ``probation - probation // 2``
      of them (the split NAB's HTM detector uses). A score at or above ``alert_level`` (tail
      probability 1e-5, the paper's threshold) starts a rest period of ``probation // 5`` rows
      that score 0, the rest period NAB gives CAD OSE: a fault is worth one early alert.

    Each row costs O(``memory``) (the nearest-neighbour search) and O(1) otherwise; the state is
    bounded, and scoring depends on the order of the values only, never on the clock.

    >>> rng = np.random.default_rng(7)
    >>> series = 10 + np.sin(np.arange(1200) / 10) + rng.normal(0.0, 0.1, 1200)
    >>> series[1000:1010] += 0.8  # a short step up
    >>> detector = GenericDetector(probation=300)
    >>> scores = [detector.update(float(i), float(v)) for i, v in enumerate(series)]
    >>> max(scores[300:1000]) < detector.alert_level <= max(scores[1000:1010])
    True
    >>> detector.score_one(25.0)  # far beyond the range seen
    1.0
    """

    def __init__(
        self,
        *,
        scales: Sequence[Scale] = DEFAULT_SCALES,
        memory: int = 8640,
        history: int = 8640,
        averaging: int = 10,
        probation: int = NAB_PROBATION_CAP,
        range_tolerance: float = 0.05,
        alert_level: float = alert_level_for(ALERT_TAIL),
    ) -> None:
        self.scales = tuple(scales)
        self.memory = memory
        self.history = history
        self.averaging = averaging
        self.probation = probation
        self.range_tolerance = range_tolerance
        self.alert_level = alert_level
        self._check_parameters()
        self.learning_rows = probation // 2
        self.estimation_rows = max(probation - self.learning_rows, 2)
        self.rest_rows = probation // 5
        n_scales = len(self.scales)
        width = max(s.points for s in self.scales)
        self._spans = np.array([s.span for s in self.scales])
        self._lookback = int(self._spans.max())
        # A context waits `span` rows before it may be compared; the ring holds the longest wait.
        self._pending_rows = 2 * self._lookback
        self.n_ = 0  # rows learnt
        self.origin_ = 0.0  # the first value; contexts are stored relative to it
        self.low_ = math.inf
        self.high_ = -math.inf
        self.rest_ = 0  # rows left in the rest period
        self.values_ = np.zeros(self._lookback)  # the last values, oldest first
        self.pending_ = np.zeros((n_scales, self._pending_rows, width))  # ring, by row
        self.contexts_ = np.zeros((n_scales, memory, width))
        self.norms_ = np.full((n_scales, memory), np.inf)  # squared norms; inf = empty slot
        self.stored_ = np.zeros(n_scales, dtype=np.int64)  # contexts ever stored per scale
        self.raw_history_ = np.zeros((n_scales, history))
        self.raw_sum_ = np.zeros(n_scales)
        self.raw_sum_sq_ = np.zeros(n_scales)
        self.raw_count_ = np.zeros(n_scales, dtype=np.int64)  # raw values ever in the history
        self.recent_raw_ = np.zeros((n_scales, averaging))  # last raw values, ring
        self.recent_count_ = np.zeros(n_scales, dtype=np.int64)  # raw values ever in the ring
        self._last: _Evaluation | None = None

    def _check_parameters(self) -> None:
        if not self.scales or any(s.points < 1 or s.block < 1 for s in self.scales):
            raise ValueError("scales must be a non-empty list of Scale(points>=1, block>=1)")
        if min(self.memory, self.history, self.averaging) < 1:
            raise ValueError("memory, history and averaging must be at least 1")
        if self.probation < 4:
            raise ValueError("probation must be at least 4 rows")
        if not 0.0 < self.alert_level <= 1.0 or self.range_tolerance < 0.0:
            raise ValueError("alert_level must be in (0, 1] and range_tolerance >= 0")

    # -- the river-style interface -------------------------------------------------------

    def score_one(self, x: float, ts: float | None = None) -> float:
        """The anomaly score of ``x`` as the next row, in [0, 1]; the state is unchanged.

        ``ts`` (event time) is accepted for the common detector interface; scores depend
        on the order of rows only, as NAB's do.
        """
        return self._evaluate(x).score

    def learn_one(self, x: float, ts: float | None = None) -> None:
        """Add ``x`` as the next row of the stream."""
        self._commit(self._evaluate(x))

    def update(self, ts: float, value: float) -> float:
        """Score ``value`` as the next row, then learn it; returns the score."""
        evaluation = self._evaluate(value)
        self._commit(evaluation)
        return evaluation.score

    # -- scoring ---------------------------------------------------------------------------

    def _evaluate(self, x: float) -> _Evaluation:
        value = float(x)
        if not math.isfinite(value):
            raise ValueError(f"cannot score a non-finite value: {x!r}")
        last = self._last
        if last is not None and last.n == self.n_ and last.value == value:
            return last
        origin = value if self.n_ == 0 else self.origin_
        contexts = self._contexts(value - origin)
        comparable = (self.n_ + 1 >= self._spans) & (self.stored_ > 0)
        raws = self._raw_novelty(contexts, comparable)
        score = 0.0
        if self.rest_ == 0 and np.any(self.raw_count_ >= self.estimation_rows):
            score = 1.0 if self._out_of_range(value) else self._likelihood_score(raws, comparable)
        evaluation = _Evaluation(self.n_, value, contexts, raws, comparable, score)
        self._last = evaluation
        return evaluation

    def _contexts(self, newest: float) -> np.ndarray:
        """Per scale, the block means of the rows up to and including ``newest``."""
        n_scales, _, width = self.contexts_.shape
        contexts = np.zeros((n_scales, width))
        window = np.append(self.values_[1:], newest)
        for i, scale in enumerate(self.scales):
            if self.n_ + 1 >= scale.span:
                rows = window[len(window) - scale.span :]
                if scale.block > 1:
                    rows = rows.reshape(scale.points, scale.block).sum(axis=1) / scale.block
                contexts[i, : scale.points] = rows
        return contexts

    def _raw_novelty(self, contexts: np.ndarray, comparable: np.ndarray) -> np.ndarray:
        """Per scale, the RMS distance of the newest context to its nearest remembered one."""
        raws = np.zeros(len(self.scales))
        if not comparable.any():
            return raws
        # |m - c|^2 = |m|^2 - 2 m.c + |c|^2, with |m|^2 kept per slot (inf when empty);
        # |c|^2 is the same for every slot, so it is added after taking the minimum.
        partial = self.norms_ + np.matmul(self.contexts_, -2.0 * contexts[:, :, None])[:, :, 0]
        nearest = partial.min(axis=1)
        for i, scale in enumerate(self.scales):
            if comparable[i]:
                squared = float(nearest[i]) + float(contexts[i] @ contexts[i])
                raws[i] = math.sqrt(max(squared, 0.0) / scale.points)
        return raws

    def _likelihood_score(self, raws: np.ndarray, comparable: np.ndarray) -> float:
        """The log tail probability of the most surprising scale's recent raw average."""
        scoring = (self.raw_count_ >= self.estimation_rows) & comparable
        if not scoring.any():
            return 0.0
        floor = max(_PRECISION * (self.high_ - self.low_), 1e-12)
        z_scores = []
        dofs = []
        for i in np.flatnonzero(scoring):
            # The ring holds the last `averaging` raw values; the oldest drops out now.
            kept = int(min(self.recent_count_[i], self.averaging - 1))
            slot = int(self.recent_count_[i] % self.averaging)
            recent = float(self.recent_raw_[i].sum()) - float(self.recent_raw_[i, slot])
            average = (recent + float(raws[i])) / (kept + 1)
            count = int(min(self.raw_count_[i], self.history))
            mean = float(self.raw_sum_[i]) / count
            variance = max(float(self.raw_sum_sq_[i]) / count - mean * mean, 0.0)
            spread = max(math.sqrt(variance * count / (count - 1)), floor)
            z_scores.append((average - mean) / (spread * math.sqrt(1.0 + 1.0 / count)))
            dofs.append(count - 1)
        tails = stdtr(np.array(dofs, dtype=float), -np.array(z_scores))
        tail = min(1.0, float(tails.min()) * len(z_scores))
        return min(1.0, max(0.0, alert_level_for(tail)))

    def _out_of_range(self, value: float) -> bool:
        width = max(self.high_ - self.low_, 1e-9 * max(1.0, abs(self.high_), abs(self.low_)))
        excess = max(value - self.high_, self.low_ - value)
        return excess > self.range_tolerance * width

    # -- learning --------------------------------------------------------------------------

    def _commit(self, evaluation: _Evaluation) -> None:
        if evaluation.n != self.n_:
            raise RuntimeError("detector state changed between scoring and learning")
        value = evaluation.value
        row = self.n_
        if row == 0:
            self.origin_ = value
        self.values_[:-1] = self.values_[1:]
        self.values_[-1] = value - self.origin_
        self.low_ = min(self.low_, value)
        self.high_ = max(self.high_, value)
        for k in np.flatnonzero(evaluation.comparable):
            self.recent_raw_[k, self.recent_count_[k] % self.averaging] = evaluation.raws[k]
            self.recent_count_[k] += 1
        if row >= self.learning_rows:
            self._add_to_history(evaluation.raws, evaluation.comparable)
        # A context joins the memory once it no longer overlaps the newest row's context of
        # the same scale: `span` rows after it ended. Until then it waits in a ring.
        self.pending_[:, row % self._pending_rows] = evaluation.contexts
        for i, scale in enumerate(self.scales):
            ended = row - scale.span + 1  # the row whose context becomes comparable next row
            if ended >= scale.span - 1:
                context = self.pending_[i, ended % self._pending_rows]
                slot = int(self.stored_[i] % self.memory)
                self.contexts_[i, slot] = context
                self.norms_[i, slot] = float(context @ context)
                self.stored_[i] += 1
        self.n_ += 1
        if self.rest_ > 0:
            self.rest_ -= 1
        elif evaluation.score >= self.alert_level:
            self.rest_ = self.rest_rows
        self._last = None

    def _add_to_history(self, raws: np.ndarray, learning: np.ndarray) -> None:
        for i in np.flatnonzero(learning):
            raw = float(raws[i])
            slot = int(self.raw_count_[i] % self.history)
            if self.raw_count_[i] >= self.history:
                old = float(self.raw_history_[i, slot])
                self.raw_sum_[i] -= old
                self.raw_sum_sq_[i] -= old * old
            self.raw_history_[i, slot] = raw
            self.raw_sum_[i] += raw
            self.raw_sum_sq_[i] += raw * raw
            self.raw_count_[i] += 1
            if self.raw_count_[i] % self.history == 0:
                # Re-add from scratch now and then so that rounding cannot drift.
                self.raw_sum_[i] = float(np.sum(self.raw_history_[i]))
                self.raw_sum_sq_[i] = float(np.sum(self.raw_history_[i] * self.raw_history_[i]))

    # -- hand-off --------------------------------------------------------------------------

    def parameters(self) -> dict[str, Any]:
        """The constructor arguments, as plain data."""
        return {
            "scales": [[s.points, s.block] for s in self.scales],
            "memory": self.memory,
            "history": self.history,
            "averaging": self.averaging,
            "probation": self.probation,
            "range_tolerance": self.range_tolerance,
            "alert_level": self.alert_level,
        }

    def state(self) -> dict[str, Any]:
        """Everything needed to resume scoring elsewhere, as JSON-compatible data."""
        return {
            "version": STATE_VERSION,
            "parameters": self.parameters(),
            "n": self.n_,
            "origin": self.origin_,
            "low": self.low_ if self.n_ else None,
            "high": self.high_ if self.n_ else None,
            "rest": self.rest_,
            "values": self.values_.tolist(),
            "pending": self.pending_.tolist(),
            "contexts": self.contexts_.tolist(),
            "norms": [[x if math.isfinite(x) else None for x in row] for row in self.norms_],
            "stored": self.stored_.tolist(),
            "raw_history": self.raw_history_.tolist(),
            "raw_sum": self.raw_sum_.tolist(),
            "raw_sum_sq": self.raw_sum_sq_.tolist(),
            "raw_count": self.raw_count_.tolist(),
            "recent_raw": self.recent_raw_.tolist(),
            "recent_count": self.recent_count_.tolist(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> GenericDetector:
        """Rebuild a detector from :meth:`state`; it scores the rest of the stream the same."""
        if state.get("version") != STATE_VERSION:
            raise DetectorStateError(
                f"detector state version {state.get('version')!r} is not {STATE_VERSION}"
            )
        try:
            params = dict(state["parameters"])
            params["scales"] = [Scale(int(p), int(b)) for p, b in params["scales"]]
            detector = cls(**params)
            detector.n_ = int(state["n"])
            detector.origin_ = float(state["origin"])
            detector.low_ = math.inf if state["low"] is None else float(state["low"])
            detector.high_ = -math.inf if state["high"] is None else float(state["high"])
            detector.rest_ = int(state["rest"])
            _fill(detector.values_, state["values"])
            _fill(detector.pending_, state["pending"])
            _fill(detector.contexts_, state["contexts"])
            norms = [[math.inf if x is None else x for x in row] for row in state["norms"]]
            _fill(detector.norms_, norms)
            _fill(detector.stored_, state["stored"])
            _fill(detector.raw_history_, state["raw_history"])
            _fill(detector.raw_sum_, state["raw_sum"])
            _fill(detector.raw_sum_sq_, state["raw_sum_sq"])
            _fill(detector.raw_count_, state["raw_count"])
            _fill(detector.recent_raw_, state["recent_raw"])
            _fill(detector.recent_count_, state["recent_count"])
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, DetectorStateError):
                raise
            raise DetectorStateError(f"detector state is incomplete or malformed: {exc}") from exc
        return detector


def _fill(target: np.ndarray, data: object) -> None:
    source = np.asarray(data, dtype=target.dtype)
    if source.shape != target.shape:
        raise DetectorStateError(f"state array has shape {source.shape}, expected {target.shape}")
    target[...] = source
