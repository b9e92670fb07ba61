"""The pipeline's side of telemetry-verified closure: which repaired devices sent
readings, and what their detectors say about the repaired fault afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

from detection.engine import DetectionEngine
from domain import FaultCode, Reading
from fieldservice.closure import FaultClear, RepairObservation


class RepairWatch:
    """Called after detection with each batch's readings (pipeline hook); the scheduler
    drains what it noted into `closure.observe`. Costs one dict lookup per reading when
    no repair is under verification."""

    def __init__(self) -> None:
        self._watched: dict[str, frozenset[str]] = {}
        self._seen: dict[str, RepairObservation] = {}
        self._lock = threading.Lock()

    def watch(self, faults: Mapping[str, set[str]]) -> None:
        """Watch these devices for these faults (ticket fault codes) from now on."""
        self._watched = {device: frozenset(codes) for device, codes in faults.items()}

    def watching(self, device_id: str) -> bool:
        return device_id in self._watched

    def __call__(self, readings: Sequence[Reading], engine: DetectionEngine | None = None) -> None:
        watched = self._watched
        if not watched:
            return
        spans: dict[str, tuple[float, float]] = {}
        for reading in readings:
            if reading.device_id in watched:
                oldest, newest = spans.get(reading.device_id, (reading.ts, reading.ts))
                spans[reading.device_id] = (min(oldest, reading.ts), max(newest, reading.ts))
        if not spans:
            return
        now = time.time()
        with self._lock:
            for device_id, (oldest, newest) in spans.items():
                faults = {}
                if engine is not None:
                    faults = _faults(engine, device_id, watched[device_id], newest)
                self._note(device_id, RepairObservation(now, oldest, newest, faults))

    def drain(self) -> dict[str, RepairObservation]:
        with self._lock:
            seen, self._seen = self._seen, {}
        return seen

    def _note(self, device_id: str, new: RepairObservation) -> None:
        old = self._seen.get(device_id)
        if old is None:
            self._seen[device_id] = new
            return
        faults = dict(old.faults)
        for code, clear in new.faults.items():
            before = faults.get(code)
            last = clear.last_present_at
            if before is not None and before.last_present_at is not None:
                last = before.last_present_at if last is None else max(last, before.last_present_at)
            faults[code] = FaultClear(last, clear.cleared_since, clear.detail)
        self._seen[device_id] = RepairObservation(
            old.arrived_at, min(old.oldest, new.oldest), max(old.newest, new.newest), faults
        )


def _faults(
    engine: DetectionEngine, device_id: str, codes: frozenset[str], newest: float
) -> dict[str, FaultClear]:
    """The detectors' word on each watched fault of one device, after its newest reading."""
    out = {}
    for code in codes:
        try:
            fault = FaultCode(code)
        except ValueError:
            continue
        status = engine.clear_status(device_id, fault)
        if status is None:
            continue
        if status.present:
            last = status.last_present_at if status.last_present_at is not None else newest
            out[code] = FaultClear(max(last, newest), None, status.detail)
        else:
            # Never raised by a detector here: clear for as long as anyone can tell.
            since = status.cleared_since if status.cleared_since is not None else 0.0
            out[code] = FaultClear(status.last_present_at, since)
    return out
