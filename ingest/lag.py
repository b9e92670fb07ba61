"""Ingest lag: how far behind publication readings arrive, robust to replays and backlogs.

MQTT carries no publication time, so each reading's delay is measured against its own
device: `arrival - ts` minus the smallest such delay the device has shown lately (its clock
offset and network floor). When ingest or the broker falls behind, every live device's
readings show the same extra delay; a replay at high speed or a device uploading an old
backlog does not move the fleet's median.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np


class LagTracker:
    """Per-device delay floors and the fleet's recent excess delays (`recent` of them).

    The floor creeps up by `creep` seconds per second of arrival time, so a device whose
    clock was corrected is re-learned within minutes, not taken as lag forever.
    """

    def __init__(self, *, recent: int = 2048, creep: float = 0.05) -> None:
        self.creep = creep
        self._floors: dict[str, tuple[float, float]] = {}  # device -> (floor, at arrival)
        self._excess: deque[float] = deque(maxlen=recent)
        self._lock = threading.Lock()

    def add(self, device_id: str, ts: float, arrived_at: float) -> None:
        delay = arrived_at - ts
        floor_at = self._floors.get(device_id)
        if floor_at is None:
            floor = delay
        else:
            floor = min(delay, floor_at[0] + self.creep * max(arrived_at - floor_at[1], 0.0))
        self._floors[device_id] = (floor, arrived_at)
        with self._lock:
            self._excess.append(delay - floor)

    def quantiles(self) -> tuple[float, float]:
        """(median, p90) excess delay in seconds over the recent readings; 0 with none."""
        with self._lock:
            values = np.fromiter(self._excess, dtype=float)
        if values.size == 0:
            return 0.0, 0.0
        median, p90 = np.quantile(values, [0.5, 0.9])
        return float(median), float(p90)

    def forget(self, device_id: str) -> None:
        self._floors.pop(device_id, None)
