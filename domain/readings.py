"""A telemetry reading: one device's metrics at one event-time instant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading as it arrived: `ts` is event time in Unix seconds, `seq` the device's counter."""

    device_id: str
    ts: float
    seq: int
    metrics: Mapping[str, float]

    def get(self, metric: str, default: float | None = None) -> float | None:
        """The metric's value, or `default` when the device did not send it."""
        return self.metrics.get(metric, default)
