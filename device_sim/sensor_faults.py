"""Failing sensors, for any device type: a transform on a unit's stream of readings.

A stuck sensor repeats the value it had when it froze (`SENSOR_STUCK`); a broken one
reads something physically impossible, such as an open thermistor's -40 °C
(`SENSOR_OUT_OF_RANGE`); a failing one scatters around the truth (labelled
`UNCLASSIFIED_ANOMALY`: the wire contract has no code of its own for it). The appliance
itself keeps working: only what it reports about one metric is wrong.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from device_sim.faults import GroundTruth
from device_sim.kinds import SensorRange
from domain import FaultCode, Reading


class SensorFailure(StrEnum):
    """How a sensor fails."""

    STUCK = "stuck"
    OUT_OF_RANGE = "out_of_range"
    NOISY = "noisy"

    @property
    def fault_code(self) -> FaultCode:
        return _CODES[self]


_CODES = {
    SensorFailure.STUCK: FaultCode.SENSOR_STUCK,
    SensorFailure.OUT_OF_RANGE: FaultCode.SENSOR_OUT_OF_RANGE,
    SensorFailure.NOISY: FaultCode.UNCLASSIFIED_ANOMALY,
}


@dataclass(frozen=True, slots=True)
class SensorFault:
    """`metric` of one device reads wrong from `onset_ts` until `end_ts` (None: for good).

    `value` is what a broken sensor reads (`OUT_OF_RANGE`); a stuck one repeats its
    last good reading before the onset. `share` of the readings in the fault are affected
    (below 1: a loose connector, on and off). `noise_sd` is a noisy sensor's scatter,
    `floor` the least it can report.
    """

    device_id: str
    failure: SensorFailure
    metric: str
    onset_ts: float
    end_ts: float | None = None
    value: float | None = None
    noise_sd: float = 0.0
    floor: float | None = None
    share: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.failure is SensorFailure.OUT_OF_RANGE and self.value is None:
            raise ValueError("an out-of-range sensor fault needs the value the sensor reads")
        if not 0.0 < self.share <= 1.0:
            raise ValueError(f"share must be in (0, 1], got {self.share}")
        if self.end_ts is not None and self.end_ts <= self.onset_ts:
            raise ValueError(f"end_ts {self.end_ts} is not after onset_ts {self.onset_ts}")

    @property
    def fault_code(self) -> FaultCode:
        return self.failure.fault_code

    def active(self, ts: float) -> bool:
        return ts >= self.onset_ts and (self.end_ts is None or ts < self.end_ts)

    def ground_truth(self) -> GroundTruth:
        return GroundTruth(self.device_id, self.fault_code, self.onset_ts, self.end_ts)


def sample_sensor_fault(
    device_id: str,
    failure: SensorFailure,
    sensors: tuple[SensorRange, ...],
    rng: random.Random,
    *,
    onset_ts: float,
    end_ts: float | None = None,
) -> SensorFault:
    """A fault of `failure` on one of `sensors`, its details drawn from `rng`."""
    if not sensors:
        raise ValueError(f"{device_id}: this device type lists no sensors that can fail")
    sensor = sensors[rng.randrange(len(sensors))]
    value = None
    share = 1.0
    if failure is SensorFailure.OUT_OF_RANGE:
        value = sensor.broken[rng.randrange(2)]
        if rng.random() < 0.3:
            share = rng.uniform(0.2, 0.6)  # a loose connector: broken now and then
    return SensorFault(
        device_id,
        failure,
        sensor.metric,
        onset_ts,
        end_ts,
        value=value,
        noise_sd=sensor.noise_sd if failure is SensorFailure.NOISY else 0.0,
        floor=sensor.floor,
        share=share,
        seed=rng.getrandbits(32),
    )


class FaultySensor:
    """Applies one device's sensor faults to its readings, in event-time order."""

    def __init__(self, faults: Iterable[SensorFault]) -> None:
        self.faults = sorted(faults, key=lambda f: f.onset_ts)
        self._last: dict[str, float] = {}  # metric -> last good value (for a stuck sensor)
        self._frozen: dict[int, float] = {}
        self._rngs = [random.Random(f.seed) for f in self.faults]

    def apply(self, reading: Reading) -> Reading:
        changed: dict[str, float] | None = None
        for index, fault in enumerate(self.faults):
            metric = fault.metric
            if metric not in reading.metrics:
                continue
            true = reading.metrics[metric]
            if not fault.active(reading.ts):
                if reading.ts < fault.onset_ts:
                    self._last[metric] = true
                continue
            rng = self._rngs[index]
            if fault.share < 1.0 and rng.random() >= fault.share:
                continue
            if fault.failure is SensorFailure.STUCK:
                value = self._frozen.setdefault(index, self._last.get(metric, true))
            elif fault.failure is SensorFailure.OUT_OF_RANGE:
                assert fault.value is not None
                value = fault.value
            else:
                value = round(true + rng.gauss(0.0, fault.noise_sd), 2)
                if fault.floor is not None:
                    value = max(value, fault.floor)
            if changed is None:
                changed = dict(reading.metrics)
            changed[metric] = value
        if changed is None:
            return reading
        return Reading(reading.device_id, reading.ts, reading.seq, changed)


def apply_sensor_faults(
    readings: Iterable[Reading], faults: Iterable[SensorFault]
) -> Iterator[Reading]:
    """`readings` with each device's sensor faults applied (others pass through untouched)."""
    by_device: dict[str, list[SensorFault]] = {}
    for fault in faults:
        by_device.setdefault(fault.device_id, []).append(fault)
    sensors = {device_id: FaultySensor(found) for device_id, found in by_device.items()}
    for reading in readings:
        sensor = sensors.get(reading.device_id)
        yield reading if sensor is None else sensor.apply(reading)
