"""Run a streaming detector over one NAB stream row by row, the way NAB's detect step does."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

from detection.generic import GenericDetector


class StreamingDetector(Protocol):
    """Anything that scores the next row of a stream, then learns it."""

    def update(self, ts: float, value: float) -> float: ...


def run_detector(
    timestamps: Sequence[float],
    values: Sequence[float],
    make_detector: Callable[[], StreamingDetector] = GenericDetector,
) -> list[float]:
    """One fresh detector's anomaly score for each row, in order, each in [0, 1].

    Each score is produced before the detector sees any later row, so there is no
    look-ahead; the detector never learns the file's name or labels, and learns of its
    length only what ``make_detector`` tells it (``faultline eval nab`` tells it NAB's
    probation period, as NAB tells every detector).
    """
    if len(timestamps) != len(values):
        raise ValueError(f"{len(timestamps)} timestamps but {len(values)} values")
    detector = make_detector()
    scores: list[float] = []
    for row, (ts, value) in enumerate(zip(timestamps, values, strict=True)):
        score = float(detector.update(ts, value))
        if not (math.isfinite(score) and 0.0 <= score <= 1.0):
            raise ValueError(f"row {row}: detector returned {score!r}, not a score in [0, 1]")
        scores.append(score)
    return scores
