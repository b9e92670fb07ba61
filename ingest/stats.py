"""Counters of what ingest accepted, rejected and dropped, readable from any thread."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class IngestStats:
    """Running totals since start; `snapshot()` is safe to call from the API thread."""

    accepted: int = 0
    duplicates: int = 0
    seq_gaps: int = 0
    missing_readings: int = 0
    events: int = 0
    status_changes: int = 0
    batches: int = 0
    stored: int = 0
    sink_failures: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    connected: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def reject(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "connected": self.connected,
                "accepted": self.accepted,
                "stored": self.stored,
                "duplicates": self.duplicates,
                "seq_gaps": self.seq_gaps,
                "missing_readings": self.missing_readings,
                "events": self.events,
                "status_changes": self.status_changes,
                "batches": self.batches,
                "sink_failures": self.sink_failures,
                "rejected": dict(self.rejected),
                "rejected_total": sum(self.rejected.values()),
            }
