"""What a manufacturer states about a device model, as operators provision it.

Detectors judge a device against its model's figures where the catalog has them (the
physical range of each sensor, the reporting interval, rated figures such as a pack's
design capacity) and against what the device itself has learned everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.devices import DeviceType

# The rated figures a maker states that Faultline's detectors use, per type.
RATINGS: dict[DeviceType, tuple[str, ...]] = {
    DeviceType.FRIDGE: ("default_setpoint_c",),
    DeviceType.WASHER: ("rated_spin_current_a", "rated_spin_rpm"),
    DeviceType.AIR_CONDITIONER: (),
    DeviceType.BATTERY_PACK: ("design_capacity_ah", "end_of_life_soh"),
}


@dataclass(frozen=True, slots=True)
class DeviceModelSpec:
    """One model's catalog entry.

    `ranges`: per metric, the (low, high) a working unit of this model can report; outside
    is a broken sensor. `reporting_interval_s`: how often the model reports. `ratings`:
    rated figures, named as `RATINGS` lists them for the type (e.g. a battery pack's
    `design_capacity_ah`).
    """

    model: str
    type: DeviceType
    reporting_interval_s: float | None = None
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    ratings: Mapping[str, float] = field(default_factory=dict)
