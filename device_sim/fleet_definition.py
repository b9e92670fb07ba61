"""A fleet described in YAML: what to simulate, where, for whom, what breaks, and when.

`load_fleet_definition("default")` reads `device_sim/fleets/default.yaml` (any path
works too) and validates it; problems come back as one `FleetDefinitionError` listing
every field that is wrong and why. `device_sim.fleet.build_fleet` turns a definition
into units, devices, customers and ground truth.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from device_sim import kinds
from device_sim.transport import TransportConfig
from domain import DeviceType, FaultCode
from domain.devices import CustomerTier

FLEETS_DIR = Path(__file__).with_name("fleets")

# Faults the generic parts inject into any device type (sensor_faults, connectivity).
GENERIC_FAULTS = (FaultCode.SENSOR_STUCK, FaultCode.SENSOR_OUT_OF_RANGE, FaultCode.DEVICE_OFFLINE)

_UNITS_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


class FleetDefinitionError(ValueError):
    """A fleet definition that cannot be used, with every reason."""


def _seconds(value: Any) -> Any:
    """`90`, `"90s"`, `"15m"`, `"12h"`, `"3d"`, `"1.5d"`, `"2w"` -> seconds."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration like 90, '15m', '12h' or '3d'")
        return float(match.group(1)) * _UNITS_S[match.group(2) or "s"]
    return value


Seconds = Annotated[float, BeforeValidator(_seconds), Field(gt=0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(gt=0.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceTypeSpec(_Strict):
    """How many units of each model."""

    models: dict[str, Annotated[int, Field(ge=0)]] = Field(min_length=1)

    @property
    def count(self) -> int:
        return sum(self.models.values())


class Region(_Strict):
    """Homes spread evenly over a disc around a city centre."""

    name: str
    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)
    radius_km: float = Field(gt=0.0, le=500.0)
    weight: Weight = 1.0


class Batch(_Strict):
    """A production batch: `share` of a model's units come from it, with their own fault rate."""

    id: str
    type: DeviceType
    model: str
    share: float = Field(gt=0.0, le=1.0)
    fault_multiplier: float = Field(default=1.0, ge=0.0)
    produced: date | None = None


class Customers(_Strict):
    """Households: how many devices each owns (weights), service tier, preferred language."""

    devices_per_household: dict[Annotated[int, Field(ge=1)], Weight] = {
        1: 0.35,
        2: 0.35,
        3: 0.2,
        4: 0.1,
    }
    tiers: dict[CustomerTier, Weight] = {
        CustomerTier.STANDARD: 0.7,
        CustomerTier.PREMIUM: 0.22,
        CustomerTier.VIP: 0.08,
    }
    languages: dict[str, Weight] = {"zh-CN": 0.8, "en": 0.15, "ja": 0.05}


class PinnedFault(_Strict):
    """A fault on a named device, `onset_s` after the start (the demo's scripted failures)."""

    device_id: str
    code: FaultCode
    onset_s: float = Field(ge=0.0)
    severity: float = Field(default=1.0, gt=0.0, le=1.0)
    end_s: float | None = None  # sensor faults and outages only

    @model_validator(mode="after")
    def _end_after_onset(self) -> PinnedFault:
        if self.end_s is not None and self.end_s <= self.onset_s:
            raise ValueError(f"end_s ({self.end_s}) must be after onset_s ({self.onset_s})")
        if self.code is FaultCode.DEVICE_OFFLINE and self.end_s is None:
            raise ValueError("a pinned DEVICE_OFFLINE needs end_s (when the device is back)")
        return self


class Outages(_Strict):
    """Shape of `DEVICE_OFFLINE`: spells per device, hours each, and who uploads a backlog."""

    spells: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] = (1, 3)
    hours: tuple[Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]] = (2.0, 12.0)
    backlog_share: Rate = 0.5
    backlog_hours: tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0)]] = (
        1.0,
        24.0,
    )

    @model_validator(mode="after")
    def _ordered(self) -> Outages:
        for name in ("spells", "hours", "backlog_hours"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name}: {lo} > {hi}; give [low, high]")
        return self


class Faults(_Strict):
    """Fault rates (share of devices) per code, when they start, and how bad they are."""

    rates: dict[FaultCode, Rate] = {}
    noisy_sensor_rate: Rate = 0.0  # labelled UNCLASSIFIED_ANOMALY
    onset_window: tuple[Rate, Rate] = (0.05, 0.25)  # as shares of the duration
    severity: tuple[float, float] = (0.85, 1.0)
    outages: Outages = Outages()
    pinned: list[PinnedFault] = []

    @field_validator("rates")
    @classmethod
    def _injectable(cls, rates: dict[FaultCode, float]) -> dict[FaultCode, float]:
        for code in rates:
            if code in (FaultCode.APPLIANCE_ERROR_CODE, FaultCode.UNCLASSIFIED_ANOMALY):
                raise ValueError(
                    f"{code.value} is not injected on its own: appliance error codes come "
                    "with the faults that raise them; a noisy sensor is noisy_sensor_rate"
                )
        return rates

    @model_validator(mode="after")
    def _ranges(self) -> Faults:
        lo, hi = self.onset_window
        if lo > hi:
            raise ValueError(f"onset_window: {lo} > {hi}; give [low, high] shares of the run")
        lo, hi = self.severity
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"severity: need 0 < low <= high <= 1, got [{lo}, {hi}]")
        return self


class Transport(_Strict):
    """Network realism and the extra topics; everything off gives a perfect network."""

    drop_rate: Rate = 0.0
    duplicate_rate: Rate = 0.0
    duplicate_delay_s: tuple[float, float] = (5.0, 30.0)
    reorder_rate: Rate = 0.0
    reorder_max_delay_s: float = Field(default=120.0, ge=0.0)
    clock_skew_sd_s: float = Field(default=0.0, ge=0.0)
    events: bool = True  # appliance error codes on {prefix}/{id}/events
    status: bool = True  # retained online/offline on {prefix}/{id}/status

    def config(self, seed: int) -> TransportConfig:
        return TransportConfig(
            drop_rate=self.drop_rate,
            duplicate_rate=self.duplicate_rate,
            duplicate_delay_s=self.duplicate_delay_s,
            reorder_rate=self.reorder_rate,
            reorder_max_delay_s=self.reorder_max_delay_s,
            clock_skew_sd_s=self.clock_skew_sd_s,
            seed=seed,
        )


class FleetDefinition(_Strict):
    """A whole simulated fleet; `build_fleet` makes it, `scenario` runs it."""

    name: str
    seed: int = 0
    start: AwareDatetime | None = None  # None: the run ends now
    duration: Seconds = 3 * 86400.0
    interval_s: float = Field(default=60.0, gt=0.0)
    devices: dict[DeviceType, DeviceTypeSpec] = Field(min_length=1)
    regions: list[Region] = Field(min_length=1)
    batches: list[Batch] = []
    customers: Customers = Customers()
    faults: Faults = Faults()
    transport: Transport = Transport()

    @property
    def device_count(self) -> int:
        return sum(spec.count for spec in self.devices.values())

    @property
    def start_ts(self) -> float | None:
        return None if self.start is None else self.start.timestamp()

    @field_validator("devices")
    @classmethod
    def _simulated(
        cls, devices: dict[DeviceType, DeviceTypeSpec]
    ) -> dict[DeviceType, DeviceTypeSpec]:
        problems: list[str] = []
        for device_type, spec in devices.items():
            problems += _check_type(device_type, spec)
        if sum(spec.count for spec in devices.values()) == 0:
            problems.append("the fleet has no devices (every count is 0)")
        if problems:
            raise ValueError("\n".join(problems))
        return devices

    @model_validator(mode="after")
    def _consistent(self) -> FleetDefinition:
        problems: list[str] = []
        problems += _check_batches(self.batches, self.devices)
        problems += _check_rates(self.faults, self.devices)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _check_type(device_type: DeviceType, spec: DeviceTypeSpec) -> list[str]:
    try:
        kind = kinds.kind(device_type)
    except kinds.KindUnavailable as exc:
        return [f".{device_type.value}: {exc}"]
    unknown = sorted(set(spec.models) - set(kind.models))
    if unknown and kind.models:
        return [
            f".{device_type.value}.models: unknown model {', '.join(unknown)}; "
            f"known: {', '.join(kind.models)}"
        ]
    return []


def _check_batches(batches: list[Batch], devices: dict[DeviceType, DeviceTypeSpec]) -> list[str]:
    problems = []
    shares: dict[tuple[DeviceType, str], float] = {}
    ids = [b.id for b in batches]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"batches: id {dup!r} is used twice")
    for index, batch in enumerate(batches):
        spec = devices.get(batch.type)
        if spec is None or batch.model not in spec.models:
            problems.append(
                f"batches[{index}] ({batch.id}): no {batch.type.value} model {batch.model!r} "
                "in this fleet's devices"
            )
            continue
        key = (batch.type, batch.model)
        shares[key] = shares.get(key, 0.0) + batch.share
    for (device_type, model), total in shares.items():
        if total > 1.0 + 1e-9:
            problems.append(
                f"batches: shares of {device_type.value} {model} add up to {total:g} (> 1)"
            )
    return problems


def _check_rates(faults: Faults, devices: dict[DeviceType, DeviceTypeSpec]) -> list[str]:
    problems = []
    per_type = dict.fromkeys(devices, faults.noisy_sensor_rate)
    for code, rate in faults.rates.items():
        if code in GENERIC_FAULTS:
            for device_type in per_type:
                per_type[device_type] += rate
            continue
        owner = kinds.fault_owner(code)
        if owner is None:
            problems.append(f"faults.rates.{code.value}: no simulator in this build injects it")
        elif owner not in devices:
            problems.append(
                f"faults.rates.{code.value}: a {owner.value} fault, and the fleet has no "
                f"{owner.value} devices"
            )
        else:
            per_type[owner] += rate
    for device_type, total in per_type.items():
        if total > 1.0 + 1e-9:
            problems.append(
                f"faults.rates: the rates that apply to a {device_type.value} add up to "
                f"{total:g}; a device gets at most one fault, so keep them <= 1"
            )
    for index, pinned in enumerate(faults.pinned):
        owner = kinds.fault_owner(pinned.code)
        if pinned.code not in GENERIC_FAULTS and owner is None:
            problems.append(f"faults.pinned[{index}]: no simulator injects {pinned.code.value}")
    return problems


def fleet_path(name_or_path: str | Path) -> Path:
    """A path as given, or the packaged fleet of that name (`default`, `demo`, `bench-10k`)."""
    path = Path(name_or_path)
    if path.exists() or path.suffix:
        return path
    return FLEETS_DIR / f"{name_or_path}.yaml"


def load_fleet_definition(name_or_path: str | Path) -> FleetDefinition:
    """Read and validate a fleet YAML file (or a packaged fleet by name)."""
    path = fleet_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        packaged = ", ".join(sorted(p.stem for p in FLEETS_DIR.glob("*.yaml")))
        raise FleetDefinitionError(
            f"cannot read fleet definition {path}: {exc.strerror} (packaged fleets: {packaged})"
        ) from exc
    except yaml.YAMLError as exc:
        raise FleetDefinitionError(f"{path}: not valid YAML: {exc}") from exc
    return parse_fleet_definition(data, source=str(path))


def parse_fleet_definition(data: Any, *, source: str = "fleet definition") -> FleetDefinition:
    """Validate already-parsed YAML; errors name the field (`devices.fridge.models`)."""
    if not isinstance(data, dict):
        raise FleetDefinitionError(
            f"{source}: expected a mapping at the top, got {type(data).__name__}"
        )
    try:
        return FleetDefinition.model_validate(data)
    except ValidationError as exc:
        raise FleetDefinitionError(f"{source}: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    """One line per problem: `field.path: what is wrong`."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (a typo?)"
        for line in message.splitlines():
            # Our validators name the sub-field as ".sub.path: reason".
            if line.startswith("."):
                lines.append(f"{where}{line}")
            else:
                lines.append(f"{where}: {line}" if where else line)
    count = len(lines)
    return f"{count} problem{'s' if count > 1 else ''}\n  " + "\n  ".join(lines)
