"""Counters of what ingest accepted, rejected and dropped, readable from any thread."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ingest.lag import LagTracker
from ingest.loss import LossWindow


@dataclass
class IngestStats:
    """Running totals since start; `snapshot()` is safe to call from the API thread.

    Beside the totals: the recent loss rate (`loss`), the recent lag behind publication
    (`lag`), how many messages wait in the inbox, and since when the batch being stored
    has waited (`pending_since`, wall time of its oldest message; None when idle).
    """

    accepted: int = 0
    duplicates: int = 0
    late_readings: int = 0
    epochs: int = 0
    seq_gaps: int = 0
    missing_readings: int = 0
    events: int = 0
    status_changes: int = 0
    batches: int = 0
    stored: int = 0
    sink_failures: int = 0
    unstorable: int = 0
    batch_splits: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    connected: bool = False
    connect_failures: int = 0
    last_connect_error: str | None = None
    pending_since: float | None = None
    inbox_depth: int = 0
    loss: LossWindow = field(default_factory=LossWindow, repr=False)
    lag: LagTracker = field(default_factory=LagTracker, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def reject(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] += 1

    def oldest_pending_age_s(self, now: float | None = None) -> float:
        since = self.pending_since
        if since is None:
            return 0.0
        return max((time.time() if now is None else now) - since, 0.0)

    def snapshot(self) -> dict[str, Any]:
        received, lost, gap_devices = self.loss.totals()
        lag_p50, lag_p90 = self.lag.quantiles()
        with self._lock:
            return {
                "connected": self.connected,
                "connect_failures": self.connect_failures,
                "last_connect_error": self.last_connect_error,
                "accepted": self.accepted,
                "stored": self.stored,
                "duplicates": self.duplicates,
                "late_readings": self.late_readings,
                "epochs": self.epochs,
                "seq_gaps": self.seq_gaps,
                "missing_readings": self.missing_readings,
                "loss_rate_recent": round(lost / (received + lost), 4) if received + lost else 0.0,
                "loss_recent": {"received": received, "lost": lost, "devices": gap_devices},
                "loss_warnings": self.loss.warnings,
                "lag_s": {"p50": round(lag_p50, 3), "p90": round(lag_p90, 3)},
                "inbox_depth": self.inbox_depth,
                "oldest_pending_s": round(self.oldest_pending_age_s(), 3),
                "events": self.events,
                "status_changes": self.status_changes,
                "batches": self.batches,
                "sink_failures": self.sink_failures,
                "unstorable": self.unstorable,
                "batch_splits": self.batch_splits,
                "rejected": dict(self.rejected),
                "rejected_total": sum(self.rejected.values()),
            }
