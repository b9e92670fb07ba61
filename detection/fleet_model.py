"""UNCLASSIFIED_ANOMALY: a multivariate fleet model that notices a device behaving unlike its
peers in a way no specific detector describes.

Each device's telemetry is summarised per event-time hour (`HourlyFeatures`: mean,
standard deviation, roughness — mean absolute change between readings — and noise floor
of the profile's `fleet_metrics`); a `FleetModel` holds one
IsolationForest per device model (and per device type as a fallback), trained on fleet
hours. Scoring is done in batches by the engine — a single-row `score_samples` call costs
milliseconds, a row in a batch microseconds. The model's `abnormality` is the negated
IsolationForest score: higher means more abnormal.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest

from detection.catalog import diagnosis_for
from domain import Anomaly, AnomalySource, FaultCode, Severity

HOUR_S = 3600.0
FLOOR_WINDOW = 5  # changes per stretch when looking for the hour's quietest one
FloatArray = npt.NDArray[np.float64]


def feature_names(metrics: Sequence[str], rest: bool = False) -> list[str]:
    """Column names of an hourly feature vector over `metrics` (`rest`: with `_rest`)."""
    stats = ("mean", "std", "rough", "floor", "rest") if rest else ("mean", "std", "rough", "floor")
    return [f"{m}_{stat}" for m in metrics for stat in stats]


class HourlyFeatures:
    """One device's running summary of the current event-time hour.

    `add` returns `(hour_start, vector)` for the previous hour when a reading opens a new
    hour and the previous one had enough readings; otherwise None. The vector holds, per
    metric, the mean, the standard deviation, the roughness (mean absolute change from
    one reading to the next) and the noise floor (the mean absolute second difference
    over the hour's quietest stretch of `FLOOR_WINDOW`): a working sensor has quiet
    stretches even in a busy hour, and a steady slope is quiet too; a failing one
    scatters all the time. With a `rest_metric` (what drives the device: a battery's
    current) the vector also holds, per metric, `rest`: the mean absolute second
    difference over the stretch where the rest metric is quietest, if it is quiet there
    (its own figure at most `rest_tolerance`), else 0. At rest the true signals barely
    move, so what moves there is the sensor: a scattering sensor stands out even when busy
    hours of healthy units scatter as much. Readings are kept as picked tuples
    (one C call each) and summarised with numpy when the hour closes.

    >>> features = HourlyFeatures(("t",), min_readings=2)
    >>> [features.add(ts, {"t": (ts / 60) ** 2}) for ts in (0.0, 60.0, 120.0, 3600.0)][-1]
    (0.0, [1.666666667, 1.699673171, 2.0, 2.0])
    """

    __slots__ = ("_pick", "_rest", "hour", "metrics", "min_readings", "rest_tolerance", "rows")

    def __init__(
        self,
        metrics: Sequence[str],
        min_readings: int = 30,
        rest_metric: str | None = None,
        rest_tolerance: float = 0.0,
    ) -> None:
        self.metrics = tuple(metrics)
        self.min_readings = min_readings
        self._rest = None if rest_metric is None else self.metrics.index(rest_metric)
        self.rest_tolerance = rest_tolerance
        self.hour: float | None = None
        self.rows: list[tuple[float, ...]] = []
        self._pick = operator.itemgetter(*self.metrics) if len(self.metrics) > 1 else None

    def add(self, ts: float, values: Mapping[str, float]) -> tuple[float, list[float]] | None:
        hour = ts - ts % HOUR_S
        closed = None
        if hour != self.hour:
            if self.hour is not None and hour > self.hour:
                closed = self._close()
            self.hour = hour
            self.rows = []
        pick = self._pick
        try:
            row = pick(values) if pick is not None else (values[self.metrics[0]],)
        except KeyError:
            row = tuple(values.get(name, 0.0) for name in self.metrics)
        self.rows.append(row)
        return closed

    def _close(self) -> tuple[float, list[float]] | None:
        n = len(self.rows)
        if n < max(self.min_readings, 2) or self.hour is None:
            return None
        x = np.asarray(self.rows, dtype=np.float64)
        rough = np.abs(np.diff(x, axis=0)).mean(axis=0)
        # Second differences: a steady slope (a battery sagging under load) is quiet,
        # a scattering sensor is not.
        bends = np.abs(np.diff(x, n=2, axis=0))
        windows = bends.shape[0] // FLOOR_WINDOW
        floor = bends.mean(axis=0) if bends.shape[0] else rough
        rest = np.zeros_like(rough)
        if windows:
            stretch = bends[: windows * FLOOR_WINDOW].reshape(windows, FLOOR_WINDOW, -1)
            means = stretch.mean(axis=1)
            floor = means.min(axis=0)
            if self._rest is not None:
                stillest = means[int(np.argmin(means[:, self._rest]))]
                if stillest[self._rest] <= self.rest_tolerance:
                    rest = stillest
        columns = [x.mean(axis=0), x.std(axis=0), rough, floor]
        if self._rest is not None:
            columns.append(rest)
        vector = np.column_stack(columns).ravel()
        return self.hour, [round(float(v), 9) for v in vector]

    def state(self) -> dict[str, Any]:
        # The hour's raw rows (at most one an interval): a hand-off resumes exactly.
        return {"hour": self.hour, "rows": [list(row) for row in self.rows]}

    def restore(self, state: Mapping[str, Any]) -> None:
        self.hour = state.get("hour")
        self.rows = [tuple(float(v) for v in row) for row in state.get("rows", [])]


class FleetModel(BaseEstimator):
    """One IsolationForest per group (a device model, or a device type as fallback).

    Follows scikit-learn's estimator rules: parameters are stored as given, `fit` does the
    work and returns self, learned attributes end in `_`. `abnormality` is higher for more
    abnormal rows (IsolationForest's own `score_samples` is the opposite sign);
    `threshold_[group]` is the `threshold_quantile` of the training rows' abnormality plus
    `threshold_margin`.

    A forest over many features is slow to notice one feature far outside the fleet's
    range (it splits on that feature only now and then), so each feature also gets
    fences learned from the fleet: `low_`/`high_` are its `fence_quantile` tails
    widened by `fence_k` times their spread. `outliers` flags a row the forest scores
    past its threshold or that crosses a fence.

    >>> rng = np.random.default_rng(0)
    >>> model = FleetModel(n_estimators=50, random_state=0)
    >>> model = model.fit({"FR-300": rng.normal(size=(500, 2))})
    >>> scores = model.abnormality("FR-300", np.array([[0.0, 0.0], [8.0, -8.0]]))
    >>> bool(scores[1] > model.threshold_["FR-300"] > scores[0])
    True
    """

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: int | str = "auto",
        threshold_quantile: float = 0.9995,
        threshold_margin: float = 0.02,
        fence_quantile: float = 0.999,
        fence_k: float = 1.0,
        random_state: int | None = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.threshold_quantile = threshold_quantile
        self.threshold_margin = threshold_margin
        self.fence_quantile = fence_quantile
        self.fence_k = fence_k
        self.random_state = random_state

    def fit(self, groups: Mapping[str, Any]) -> FleetModel:
        """Fit one forest per group from its rows (hourly feature vectors of healthy fleet)."""
        if not 0.5 <= self.threshold_quantile <= 1.0:
            raise ValueError(
                f"threshold_quantile must be in [0.5, 1], got {self.threshold_quantile}"
            )
        self.forests_: dict[str, IsolationForest] = {}
        self.threshold_: dict[str, float] = {}
        self.mean_: dict[str, FloatArray] = {}
        self.scale_: dict[str, FloatArray] = {}
        self.low_: dict[str, FloatArray] = {}
        self.high_: dict[str, FloatArray] = {}
        for group, rows in groups.items():
            x = np.asarray(rows, dtype=np.float64)
            if x.ndim != 2 or x.shape[0] < 10:
                raise ValueError(f"group {group!r}: need a 2-D array of at least 10 rows")
            forest = IsolationForest(
                n_estimators=self.n_estimators,
                max_samples=self.max_samples,
                random_state=self.random_state,
            ).fit(x)
            self.forests_[group] = forest
            train = -forest.score_samples(x)
            self.threshold_[group] = float(np.quantile(train, self.threshold_quantile)) + float(
                self.threshold_margin
            )
            self.mean_[group] = x.mean(axis=0)
            self.scale_[group] = np.maximum(x.std(axis=0), 1e-6)
            lo = np.quantile(x, 1.0 - self.fence_quantile, axis=0)
            hi = np.quantile(x, self.fence_quantile, axis=0)
            spread = np.maximum(hi - lo, 1e-3 * np.maximum(np.abs(hi), 1.0))
            self.low_[group] = lo - self.fence_k * spread
            self.high_[group] = hi + self.fence_k * spread
        self.n_groups_ = len(self.forests_)
        return self

    def abnormality(self, group: str, rows: Any) -> FloatArray:
        """Higher = more abnormal, for a batch of rows of one group."""
        forest = self.forests_[group]
        return np.asarray(-forest.score_samples(np.asarray(rows, dtype=np.float64)))

    def fenced(self, group: str, rows: Any) -> npt.NDArray[np.bool_]:
        """Per row: does any feature lie outside the group's fences?"""
        x = np.asarray(rows, dtype=np.float64)
        return np.asarray(((x < self.low_[group]) | (x > self.high_[group])).any(axis=1))

    def outliers(self, group: str, rows: Any) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """`(abnormality, flagged)` for a batch of rows: flagged past the threshold or a fence."""
        scores = self.abnormality(group, rows)
        return scores, (scores > self.threshold_[group]) | self.fenced(group, rows)

    def explain(
        self, group: str, row: Sequence[float], names: Sequence[str], top: int = 3
    ) -> list[dict[str, Any]]:
        """The features furthest from the group's training mean, in its standard deviations."""
        mean, scale = self.mean_[group], self.scale_[group]
        z = (np.asarray(row) - mean) / scale
        order = np.argsort(-np.abs(z))[:top]
        return [
            {
                "feature": names[i],
                "observed": round(float(row[i]), 3),
                "baseline": round(float(mean[i]), 3),
                "delta": round(float(row[i] - mean[i]), 3),
                "z": round(float(z[i]), 1),
            }
            for i in order
        ]

    def finding(
        self,
        *,
        device_id: str,
        group: str,
        hour_start: float,
        row: Sequence[float],
        score: float,
        names: Sequence[str],
    ) -> Anomaly:
        """The UNCLASSIFIED_ANOMALY finding for one abnormal hour."""
        moved = self.explain(group, row, names)
        threshold = self.threshold_[group]
        top = moved[0]
        metric = top["feature"].rsplit("_", 1)[0]
        return Anomaly(
            device_id=device_id,
            fault_code=FaultCode.UNCLASSIFIED_ANOMALY,
            severity=Severity.LOW,
            detected_at=hour_start + HOUR_S,
            onset_at=hour_start,
            confidence=round(min(0.9, 0.6 + max(score - threshold, 0.0) * 2.0), 3),
            summary=(
                f"Behaving unlike other {group} units: {top['feature']} at {top['observed']} "
                f"against a fleet norm of {top['baseline']} ({top['z']:+.1f} σ); no known "
                "fault signature matches."
            ),
            evidence={
                "source": AnomalySource.FLEET_MODEL.value,
                "metric": metric,
                "observed": top["observed"],
                "baseline": top["baseline"],
                "delta": top["delta"],
                "moved": moved,
                "score": round(float(score), 4),
                "threshold": round(threshold, 4),
                "model_group": group,
                "window_start": hour_start,
                "window_end": hour_start + HOUR_S,
            },
            diagnosis=diagnosis_for(FaultCode.UNCLASSIFIED_ANOMALY),
        )


def hourly_rows(
    readings: Iterable[Any], metrics: Sequence[str], min_readings: int = 30
) -> list[list[float]]:
    """Hourly feature vectors of a stream of readings (any devices, one group): training data."""
    accumulators: dict[str, HourlyFeatures] = {}
    rows: list[list[float]] = []
    for reading in readings:
        acc = accumulators.get(reading.device_id)
        if acc is None:
            acc = accumulators[reading.device_id] = HourlyFeatures(metrics, min_readings)
        closed = acc.add(reading.ts, reading.metrics)
        if closed is not None:
            rows.append(closed[1])
    return rows
