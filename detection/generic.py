"""A generic streaming anomaly detector for one numeric metric that no device profile covers.

It is measured on the NAB benchmark streams with ``faultline eval nab``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

STATE_VERSION = 1
# log(q + 1e-10) / log(1e-10) maps a tail probability q to [0, 1] (HTM's log-likelihood).
_LOG_EPSILON = 1e-10
_LOG_SCALE = math.log(_LOG_EPSILON)


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


DEFAULT_SCALES: tuple[Scale, ...] = (Scale(1, 1), Scale(8, 1), Scale(8, 4), Scale(8, 32))


@dataclass(frozen=True)
class _Evaluation:
    """What scoring one value found, kept so that learning it need not recompute it."""

    n: int
    value: float
    contexts: np.ndarray
    ready: np.ndarray
    raws: np.ndarray
    score: float


class GenericDetector:
    """Scores each value of one numeric stream in [0, 1]; higher is more anomalous.

    ``score_one`` changes nothing; ``learn_one`` adds the value to the state; ``update``
    does both and returns the score. A score of ``alert_level`` or more is an alert.

    It knows nothing about the metric: it learns what the stream's recent history looks like at
    several time scales and scores each new row by how novel it is.

    - **Novelty at several scales.** For each scale the current row's context is a vector of
      block means (``points`` blocks of ``block`` rows, the last one ending at this row: the
      value itself, the last 8 values, the last 32 rows in 8 blocks, the last 256 rows in 8
      blocks). Its raw novelty is the distance to its ``neighbours``-th nearest neighbour among
      the last ``memory`` contexts that ended at least ``memory_delay`` rows before this one
      started, so that a new regime stays novel for a while instead of matching itself.
    - **Anomaly likelihood.** As in Numenta's HTM detector, the mean raw novelty of the last
      ``averaging`` rows is compared with the mean and spread of the scale's last ``history``
      raw values: the Gaussian tail probability ``q`` becomes a score
      ``log(q + 1e-10) / log(1e-10)`` in [0, 1], and the row scores the largest over its scales.
      A scale's raw values join its history only once its memory holds ``learning_rows``
      contexts (before that everything looks new), and it scores once ``min_history`` have.
    - **Out of range.** A value beyond the range seen so far by more than ``range_tolerance`` of
      that range scores 1.
    - **One alert per event.** A score at or above ``alert_level`` starts a quiet period of
      ``quiet_rows`` rows that score 0: a fault is worth one early alert, not a burst of them.

    Each row costs O(``memory``) (the nearest-neighbour search) and O(1) otherwise; the state is
    bounded, and scoring depends on the order of the values only, never on the clock.

    >>> import math
    >>> detector = GenericDetector()
    >>> series = [10 + math.sin(i / 10) for i in range(1000)] + [25.0] * 5
    >>> scores = [detector.update(float(i), value) for i, value in enumerate(series)]
    >>> max(scores[:1000]) < 0.4, scores[1000]
    (True, 1.0)
    """

    def __init__(
        self,
        *,
        scales: Sequence[Scale] = DEFAULT_SCALES,
        memory: int = 1500,
        neighbours: int = 5,
        memory_delay: int = 50,
        history: int = 8640,
        averaging: int = 10,
        learning_rows: int = 300,
        min_history: int = 100,
        range_tolerance: float = 0.05,
        alert_level: float = 0.4,
        quiet_rows: int = 200,
    ) -> None:
        self.scales = tuple(scales)
        self.memory = memory
        self.neighbours = neighbours
        self.memory_delay = memory_delay
        self.history = history
        self.averaging = averaging
        self.learning_rows = learning_rows
        self.min_history = min_history
        self.range_tolerance = range_tolerance
        self.alert_level = alert_level
        self.quiet_rows = quiet_rows
        self._check_parameters()
        n_scales = len(self.scales)
        width = max(s.points for s in self.scales)
        self._spans = np.array([s.span for s in self.scales])
        self._lookback = int(self._spans.max())
        self._pending_rows = self._lookback + memory_delay
        self.n_ = 0  # rows learnt
        self.origin_ = 0.0  # the first value; contexts are stored relative to it
        self.low_ = math.inf
        self.high_ = -math.inf
        self.quiet_ = 0  # rows left in the quiet period
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
        self._last: _Evaluation | None = None

    def _check_parameters(self) -> None:
        if not self.scales or any(s.points < 1 or s.block < 1 for s in self.scales):
            raise ValueError("scales must be a non-empty list of Scale(points>=1, block>=1)")
        if self.neighbours < 1 or self.memory < self.neighbours:
            raise ValueError("need 1 <= neighbours <= memory")
        if min(self.history, self.averaging, self.min_history) < 1:
            raise ValueError("history, averaging and min_history must be at least 1")
        if self.min_history > self.history:
            raise ValueError("min_history cannot exceed history")
        if min(self.memory_delay, self.learning_rows, self.quiet_rows) < 0:
            raise ValueError("memory_delay, learning_rows and quiet_rows cannot be negative")
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
        ready = self._ready()
        raws = self._raw_novelty(contexts, ready)
        score = 0.0
        if self.quiet_ == 0 and np.any(self.raw_count_ >= self.min_history):
            score = 1.0 if self._out_of_range(value) else self._likelihood_score(raws)
        evaluation = _Evaluation(self.n_, value, contexts, ready, raws, score)
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

    def _ready(self) -> np.ndarray:
        """Per scale, whether this row has a full context and enough memory to compare it."""
        return (self.n_ + 1 >= self._spans) & (self.stored_ >= self.neighbours)

    def _raw_novelty(self, contexts: np.ndarray, ready: np.ndarray) -> np.ndarray:
        """Per scale, the distance of the newest context to its k-th nearest remembered one."""
        raws = np.zeros(len(self.scales))
        if not ready.any():
            return raws
        # |m - c|^2 = |m|^2 - 2 m.c + |c|^2, with |m|^2 kept per slot (inf when empty);
        # |c|^2 is the same for every slot, so it is added after ranking.
        partial = self.norms_ + np.matmul(self.contexts_, -2.0 * contexts[:, :, None])[:, :, 0]
        kth = np.partition(partial, self.neighbours - 1, axis=1)[:, self.neighbours - 1]
        for i, scale in enumerate(self.scales):
            if ready[i]:
                squared = float(kth[i]) + float(contexts[i] @ contexts[i])
                raws[i] = math.sqrt(max(squared, 0.0) / scale.points)
        return raws

    def _likelihood_score(self, raws: np.ndarray) -> float:
        """The largest, over scales, of the log tail probability of the recent raw average."""
        kept = min(self.n_, self.averaging - 1)
        # The ring holds the last `averaging` rows; the oldest of them drops out now.
        recent = self.recent_raw_.sum(axis=1) - self.recent_raw_[:, self.n_ % self.averaging]
        averages = (recent + raws) / (kept + 1)
        floor = max(1e-6 * (self.high_ - self.low_), 1e-12)
        best = 0.0
        for i in range(len(self.scales)):
            if self.raw_count_[i] < self.min_history:
                continue
            count = min(int(self.raw_count_[i]), self.history)
            mean = float(self.raw_sum_[i]) / count
            variance = max(float(self.raw_sum_sq_[i]) / count - mean * mean, 0.0)
            spread = max(math.sqrt(variance), floor)
            tail = 0.5 * math.erfc((float(averages[i]) - mean) / (spread * math.sqrt(2.0)))
            best = max(best, math.log(tail + _LOG_EPSILON) / _LOG_SCALE)
        return min(1.0, best)

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
        self.recent_raw_[:, row % self.averaging] = evaluation.raws
        # A scale's raw novelty counts towards its likelihood once its memory holds
        # `learning_rows` contexts: before that, everything looks new.
        self._add_to_history(
            evaluation.raws, evaluation.ready & (self.stored_ >= self.learning_rows)
        )
        # A context joins the memory once the rows it covers are `memory_delay` rows old;
        # until then it waits in a ring of pending contexts.
        self.pending_[:, row % self._pending_rows] = evaluation.contexts
        for i, scale in enumerate(self.scales):
            wait = scale.span + self.memory_delay - 1
            ended = row - wait  # the row whose context becomes comparable from the next row
            if ended >= scale.span - 1:
                context = self.pending_[i, ended % self._pending_rows]
                slot = int(self.stored_[i] % self.memory)
                self.contexts_[i, slot] = context
                self.norms_[i, slot] = float(context @ context)
                self.stored_[i] += 1
        self.n_ += 1
        if self.quiet_ > 0:
            self.quiet_ -= 1
        elif evaluation.score >= self.alert_level:
            self.quiet_ = self.quiet_rows
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
            "neighbours": self.neighbours,
            "memory_delay": self.memory_delay,
            "history": self.history,
            "averaging": self.averaging,
            "learning_rows": self.learning_rows,
            "min_history": self.min_history,
            "range_tolerance": self.range_tolerance,
            "alert_level": self.alert_level,
            "quiet_rows": self.quiet_rows,
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
            "quiet": self.quiet_,
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
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> GenericDetector:
        """Rebuild a detector from :meth:`state`; it scores the rest of the stream the same."""
        if state.get("version") != STATE_VERSION:
            raise DetectorStateError(
                f"detector state version {state.get('version')!r} is not {STATE_VERSION}"
            )
        params = dict(state["parameters"])
        params["scales"] = [Scale(int(p), int(b)) for p, b in params["scales"]]
        detector = cls(**params)
        try:
            detector.n_ = int(state["n"])
            detector.origin_ = float(state["origin"])
            detector.low_ = math.inf if state["low"] is None else float(state["low"])
            detector.high_ = -math.inf if state["high"] is None else float(state["high"])
            detector.quiet_ = int(state["quiet"])
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
        except (KeyError, TypeError, ValueError) as exc:
            raise DetectorStateError(f"detector state is incomplete or malformed: {exc}") from exc
        return detector


def _fill(target: np.ndarray, data: object) -> None:
    source = np.asarray(data, dtype=target.dtype)
    if source.shape != target.shape:
        raise DetectorStateError(f"state array has shape {source.shape}, expected {target.shape}")
    target[...] = source
