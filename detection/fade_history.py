"""A pack's capacity record for prognosis: (age, state of health) samples in a bounded list
whose oldest samples are merged in pairs as it fills, so memory stays fixed over a long life.

Age is whatever axis the prognosis runs on (cycles, or days). A merged sample stands for
the samples it replaced (their weighted mean, weighted by how many they were), so old
history keeps its say in the fit at a coarser grain while recent history, where a knee or
a regeneration shows, stays sample by sample.

>>> history = CapacityHistory(max_samples=8)
>>> for cycle in range(12):
...     history.add(float(cycle), 1.0 - 0.01 * cycle)
>>> len(history), history.count, history.ages()[:3], history.weights()[:3]
(8, 12, [1.5, 4.5, 6.0], [4.0, 2.0, 1.0])
"""

from __future__ import annotations

from typing import Any


class CapacityHistory:
    """Samples of state of health against a non-decreasing age, at most `max_samples`."""

    def __init__(self, max_samples: int = 128) -> None:
        if max_samples < 4:
            raise ValueError(f"max_samples must be at least 4, got {max_samples}")
        self.max_samples = max_samples
        self.ages_: list[float] = []
        self.levels_: list[float] = []
        self.weights_: list[float] = []
        self.count_ = 0  # samples ever added

    def add(self, age: float, level: float) -> None:
        """Record one sample; an age before the newest raises `ValueError`."""
        if self.ages_ and age < self.ages_[-1]:
            raise ValueError(f"age must not decrease: {age} after {self.ages_[-1]}")
        self.ages_.append(age)
        self.levels_.append(level)
        self.weights_.append(1.0)
        self.count_ += 1
        if len(self.ages_) > self.max_samples:
            self._merge_oldest()

    def _merge_oldest(self) -> None:
        """Merge the oldest half in adjacent pairs (a quarter fewer samples)."""
        half = len(self.ages_) // 2
        ages, levels, weights = [], [], []
        for i in range(0, half - 1, 2):
            w = self.weights_[i] + self.weights_[i + 1]
            ages.append(
                (self.ages_[i] * self.weights_[i] + self.ages_[i + 1] * self.weights_[i + 1]) / w
            )
            levels.append(
                (self.levels_[i] * self.weights_[i] + self.levels_[i + 1] * self.weights_[i + 1])
                / w
            )
            weights.append(w)
        start = len(ages) * 2
        self.ages_ = ages + self.ages_[start:]
        self.levels_ = levels + self.levels_[start:]
        self.weights_ = weights + self.weights_[start:]

    def __len__(self) -> int:
        return len(self.ages_)

    @property
    def count(self) -> int:
        """How many samples were ever added (merged ones included)."""
        return self.count_

    def ages(self) -> list[float]:
        return list(self.ages_)

    def levels(self) -> list[float]:
        return list(self.levels_)

    def weights(self) -> list[float]:
        return list(self.weights_)

    def state(self) -> dict[str, Any]:
        """JSON-ready; `from_state` resumes from it exactly."""
        return {
            "ages": list(self.ages_),
            "levels": list(self.levels_),
            "weights": list(self.weights_),
            "count": self.count_,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], *, max_samples: int = 128) -> CapacityHistory:
        history = cls(max_samples=max_samples)
        history.ages_ = [float(v) for v in state.get("ages", [])]
        history.levels_ = [float(v) for v in state.get("levels", [])]
        history.weights_ = [float(v) for v in state.get("weights", [])]
        history.count_ = int(state.get("count", len(history.ages_)))
        return history
