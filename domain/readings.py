"""A telemetry reading: one device's metrics at one event-time instant."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec


class Reading(msgspec.Struct, frozen=True):
    """One reading as it arrived: `ts` is event time in Unix seconds, `seq` the device's counter.

    A frozen msgspec struct rather than a dataclass: ingest makes one per message, and
    this is the cheapest immutable record Python has to build (ingest throughput).
    """

    device_id: str
    ts: float
    seq: int
    metrics: Mapping[str, float]

    def get(self, metric: str, default: float | None = None) -> float | None:
        """The metric's value, or `default` when the device did not send it."""
        return self.metrics.get(metric, default)
