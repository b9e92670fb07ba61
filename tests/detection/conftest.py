"""Simulated fleets run through the detection engine once per session (they take seconds)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from detection.engine import DetectionEngine
from device_sim.fleet import Fleet, build_fridge_fleet
from device_sim.scenario import readings
from domain import Anomaly, DeviceType, FaultCode, Reading

HOUR = 3600.0
DAY = 86400.0
START = 1_764_000_000.0
# "Physically noticeable" drift: the cabinet's 6-hour mean is 1 °C above setpoint.
NOTICE_WINDOW = 360  # readings (one a minute)
NOTICE_EXCESS_C = 1.0


@dataclass
class FleetRun:
    fleet: Fleet
    start_ts: float
    anomalies: dict[str, list[Anomaly]] = field(default_factory=lambda: defaultdict(list))
    cabinet_excess: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ts: list[float] = field(default_factory=list)

    def noticeable_at(self, device_id: str, after: float) -> float | None:
        """When the cabinet's 6-hour mean first ran 1 °C above setpoint after `after`."""
        excess = np.asarray(self.cabinet_excess[device_id])
        mean = np.convolve(excess, np.ones(NOTICE_WINDOW) / NOTICE_WINDOW, mode="valid")
        ts = np.asarray(self.ts)[NOTICE_WINDOW - 1 :]
        hits = np.nonzero((mean > NOTICE_EXCESS_C) & (ts > after))[0]
        return float(ts[hits[0]]) if hits.size else None


def run_fleet(fleet: Fleet, *, days: float, start_ts: float = START) -> FleetRun:
    engine = DetectionEngine()
    run = FleetRun(fleet, start_ts)
    last_ts = None
    for reading in readings(fleet, start_ts=start_ts, duration_s=days * DAY):
        for anomaly in engine.process(DeviceType.FRIDGE, reading):
            run.anomalies[anomaly.device_id].append(anomaly)
        run.cabinet_excess[reading.device_id].append(
            reading.metrics["cabinet_temp_c"] - reading.metrics["setpoint_c"]
        )
        if reading.ts != last_ts:
            run.ts.append(reading.ts)
            last_ts = reading.ts
    return run


@pytest.fixture(scope="session")
def healthy_week() -> FleetRun:
    """20 healthy fridges, 6 of them in hot kitchens, for a week."""
    fleet = build_fridge_fleet(count=20, seed=101, start_ts=START, warm_kitchens=6)
    return run_fleet(fleet, days=7)


@pytest.fixture(scope="session")
def mixed_fleet() -> FleetRun:
    """20 fridges over 4 days: 3 compressors fail, 3 leak refrigerant, 14 are fine."""
    fleet = build_fridge_fleet(
        count=20,
        seed=202,
        start_ts=START,
        faulty={FaultCode.FRIDGE_COMPRESSOR_FAILURE: 3, FaultCode.FRIDGE_TEMP_DRIFT: 3},
        fault_window=(6 * HOUR, 20 * HOUR),
        warm_kitchens=5,
    )
    return run_fleet(fleet, days=4)


def states_with_late_and_repeated(
    make: Callable[[], Sequence[Any]], stream: Sequence[Reading], lag: int = 10
) -> tuple[list[Any], list[Any]]:
    """The detectors' states after `stream` clean, and after it with every reading sent
    twice plus a straggler from `lag` readings back: equal when those are ignored."""
    clean, noisy = make(), make()
    for i, reading in enumerate(stream):
        for detector in clean:
            detector.update(reading)
        for detector in noisy:
            detector.update(reading)
            detector.update(reading)  # a duplicate
            if i > lag:
                detector.update(stream[i - lag])  # a straggler
    return [d.state() for d in noisy], [d.state() for d in clean]
