"""The telemetry-history contract every backend (embedded, InfluxDB) implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain import Reading


class TelemetryError(Exception):
    """The telemetry store failed; the message says what to do about it."""


class TelemetryRejected(TelemetryError):
    """The store refused these readings for good (e.g. older than its retention): writing
    them again cannot succeed, unlike an outage."""


class TelemetryStore(Protocol):
    """Append-only history of readings, idempotent on `(device_id, ts, seq)`."""

    def write(self, readings: Sequence[Reading]) -> int:
        """Store `readings`; returns how many were new.

        A repeated `(device_id, ts, seq)` is skipped; the same `seq` at another time (a
        device that rebooted and counts from 1 again) is a new reading.
        """
        ...

    def query(
        self,
        *,
        device_id: str,
        metric: str | None = None,
        start: float | None = None,
        end: float | None = None,
        after: tuple[float, int] | None = None,
        limit: int = 1000,
    ) -> list[Reading]:
        """Readings of one device with `start <= ts < end`, oldest first.

        `metric` keeps only readings carrying it (and only that metric in each);
        `after=(ts, seq)` resumes a page after that reading (cursor pagination).
        """
        ...

    def count(self, device_id: str | None = None) -> int:
        """How many readings are stored (for one device, or all)."""
        ...

    def ping(self) -> None:
        """Raise `TelemetryError` if the store cannot be reached."""
        ...

    def close(self) -> None:
        ...
