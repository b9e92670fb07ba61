"""The device types the simulator can build: one `DeviceKind` per type, in a registry.

A kind ties a `DeviceType` to its simulator (a unit class with `sample()`, a bank class
that steps many units with `ticks()`), the faults and models it supports, and the facts
the generic parts need: which sensors can fail and how, and which error codes the
appliance's controller raises itself, on which check of its own signals. Adding a type
is one line in `_SOURCES` (plus its data rows). Simulator modules are imported on first
use, so a type whose module is not there yet is simply not available.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from device_sim import error_checks as check
from device_sim.faults import FaultSpec
from domain import DeviceType, FaultCode


class SimUnit(Protocol):
    """One simulated appliance (a frozen dataclass in every simulator module)."""

    @property
    def device_id(self) -> str: ...

    @property
    def seed(self) -> int: ...

    @property
    def fault(self) -> FaultSpec | None: ...


class UnitClass(Protocol):
    def sample(
        self,
        device_id: str,
        seed: int,
        *,
        model: str | None = None,
        fault: FaultSpec | None = None,
    ) -> Any: ...


class SimBank(Protocol):
    """Steps units together: `ticks()` yields `(ts, {metric: [value per unit]})`."""

    seq: int
    start_ts: float

    def ticks(self, duration_s: float) -> Iterator[tuple[float, dict[str, list[Any]]]]: ...


class BankClass(Protocol):
    def __call__(self, units: Any, *, start_ts: float, interval_s: float = ...) -> SimBank: ...


@dataclass(frozen=True, slots=True)
class SensorRange:
    """A sensor that can fail: the values a broken one reads, and how noisy a failing one is.

    `broken` are physically impossible readings (an open or shorted NTC thermistor reads
    -40 or 125 °C); `noise_sd` is the scatter of a sensor on its way out; `floor`, if
    any, the least a working or noisy one can report (an RMS vibration is never negative).
    """

    metric: str
    broken: tuple[float, float]
    noise_sd: float
    floor: float | None = None


@dataclass(frozen=True, slots=True)
class ApplianceError:
    """An error code the appliance's own controller raises when its own check fails.

    `trips` is the controller's check on one report (`device_sim/error_checks.py`); the
    code is raised once it has held for `hold_s` without a break, and again, at most every
    `repeat_s`, while it holds or whenever it holds again. Nothing here knows the fault.
    """

    code: str
    message: str
    trips: Callable[[Mapping[str, float]], bool]
    hold_s: float
    repeat_s: float | None = None


@dataclass(frozen=True)
class DeviceKind:
    """Everything the generic simulator needs to know about one device type."""

    type: DeviceType
    unit: UnitClass
    bank: BankClass
    faults: tuple[FaultCode, ...]
    models: tuple[str, ...]
    id_prefix: str
    sensors: tuple[SensorRange, ...] = ()
    errors: Mapping[FaultCode, ApplianceError] = field(default_factory=dict)
    plot: str | None = None  # "device_sim.module:function(units, *, start_ts, path, ...)"
    plot_days: float = 0.0
    # Step the bank a window of reports at a time (scenario probes whether successive
    # `ticks()` calls resume, or restart from a `start_ts` it moves along): memory stays
    # bounded for large fleets. False: one `ticks()` call for the whole run.
    windowed: bool = True

    def sample(self, device_id: str, seed: int, *, model: str, fault: FaultSpec | None) -> Any:
        return self.unit.sample(device_id, seed, model=model, fault=fault)


@dataclass(frozen=True, slots=True)
class _Source:
    module: str  # in device_sim/
    unit: str
    bank: str
    faults: str  # attribute of `module`, or "other_module:ATTR"
    id_prefix: str
    plot: str | None = None  # "module:function" in device_sim/ drawing a list of units
    plot_days: float = 0.0  # the shortest span a plot needs (a washer runs a few times a week)


# One entry per device type; the module is imported when the type is first asked for.
_SOURCES: dict[DeviceType, _Source] = {
    DeviceType.FRIDGE: _Source(
        "fridge", "FridgeUnit", "FridgeBank", "faults:FRIDGE_FAULTS", "fridge", "plot:plot_units"
    ),
    DeviceType.WASHER: _Source(
        "washer",
        "WasherUnit",
        "WasherBank",
        "washer_faults:WASHER_FAULTS",
        "washer",
        "plot_washer:plot_washers",
        plot_days=21.0,
    ),
    DeviceType.AIR_CONDITIONER: _Source(
        "air_conditioner",
        "AirConditionerUnit",
        "AirConditionerBank",
        "AC_FAULTS",
        "ac",
        "plot_air_conditioner:plot_air_conditioners",
    ),
    DeviceType.BATTERY_PACK: _Source(
        "battery",
        "BatteryUnit",
        "BatteryBank",
        "BATTERY_FAULTS",
        "battery",
        "plot_battery:plot_packs",
    ),
}

_THERMISTOR = (-40.0, 125.0)  # an open / shorted NTC: the ends of the ADC's table

SENSORS: dict[DeviceType, tuple[SensorRange, ...]] = {
    DeviceType.FRIDGE: (
        SensorRange("cabinet_temp_c", _THERMISTOR, 1.5),
        SensorRange("freezer_temp_c", _THERMISTOR, 1.5),
    ),
    DeviceType.WASHER: (
        SensorRange("water_level_l", (-5.0, 655.35), 4.0),  # pressure switch: negative, full scale
        SensorRange("vibration_g", (-1.0, 16.0), 0.3, floor=0.0),  # accelerometer railed
    ),
    DeviceType.AIR_CONDITIONER: (
        SensorRange("supply_temp_c", _THERMISTOR, 1.5),
        SensorRange("return_temp_c", _THERMISTOR, 1.5),
        SensorRange("outdoor_temp_c", (-60.0, 125.0), 1.5),
    ),
    DeviceType.BATTERY_PACK: (
        SensorRange("temp_c", _THERMISTOR, 1.0),
        SensorRange("voltage_v", (0.0, 65.535), 0.2),  # BMS ADC reads 0 or full scale
    ),
}

ERRORS: dict[DeviceType, dict[FaultCode, ApplianceError]] = {
    DeviceType.FRIDGE: {
        FaultCode.FRIDGE_COMPRESSOR_FAILURE: ApplianceError(
            "E21",
            "compressor does not start",
            check.fridge_warm_and_compressor_off,
            hold_s=45 * 60.0,
            repeat_s=6 * 3600.0,
        ),
    },
    DeviceType.WASHER: {
        FaultCode.WASHER_DRAIN_BLOCKED: ApplianceError(
            "E-OE",
            "drain error: water not pumped out in time",
            check.washer_water_left_in_drain,
            hold_s=12 * 60.0,
            repeat_s=6 * 3600.0,
        ),
        FaultCode.WASHER_IMBALANCE: ApplianceError(
            "E-UE",
            "unbalanced load: spin aborted",
            check.washer_spin_without_speed,
            hold_s=5 * 60.0,
            repeat_s=6 * 3600.0,
        ),
    },
    DeviceType.AIR_CONDITIONER: {
        FaultCode.AC_REFRIGERANT_LOW: ApplianceError(
            "E5",
            "low refrigerant protection",
            check.ac_running_without_cooling,
            hold_s=30 * 60.0,
            repeat_s=86400.0,
        ),
    },
    DeviceType.BATTERY_PACK: {
        FaultCode.BATTERY_OVERHEAT: ApplianceError(
            "BMS-OT",
            "over-temperature: charging suspended",
            check.battery_over_temperature,
            hold_s=10 * 60.0,
            repeat_s=12 * 3600.0,
        ),
    },
}


class KindUnavailable(LookupError):
    """No simulator for a device type in this build."""


_loaded: dict[DeviceType, DeviceKind] = {}


def kind(device_type: DeviceType | str) -> DeviceKind:
    """The kind for `device_type`; raises `KindUnavailable` if its simulator is missing."""
    device_type = DeviceType(device_type)
    found = _loaded.get(device_type)
    if found is None:
        found = _loaded[device_type] = _load(device_type)
    return found


def available() -> dict[DeviceType, DeviceKind]:
    """Every kind whose simulator module is present, in `DeviceType` order."""
    out = {}
    for device_type in DeviceType:
        try:
            out[device_type] = kind(device_type)
        except KindUnavailable:
            continue
    return out


def fault_owner(code: FaultCode) -> DeviceType | None:
    """The device type whose simulator injects `code` (None for generic or unknown codes)."""
    for device_type, found in available().items():
        if code in found.faults:
            return device_type
    return None


def _load(device_type: DeviceType) -> DeviceKind:
    source = _SOURCES.get(device_type)
    if source is None:
        raise KindUnavailable(f"no simulator registered for {device_type.value}")
    name = f"device_sim.{source.module}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise KindUnavailable(
            f"no {device_type.value} simulator in this build (device_sim/{source.module}.py)"
        ) from None
    faults_module, _, faults_attr = source.faults.rpartition(":")
    faults_from = (
        importlib.import_module(f"device_sim.{faults_module}") if faults_module else module
    )
    return DeviceKind(
        type=device_type,
        unit=getattr(module, source.unit),
        bank=getattr(module, source.bank),
        faults=tuple(getattr(faults_from, faults_attr)),
        models=tuple(getattr(module, "MODELS", ())),
        id_prefix=source.id_prefix,
        sensors=SENSORS.get(device_type, ()),
        errors=ERRORS.get(device_type, {}),
        plot=f"device_sim.{source.plot}" if source.plot else None,
        plot_days=source.plot_days,
    )
