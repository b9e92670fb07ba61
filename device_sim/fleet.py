"""A fleet of simulated appliances, some with injected faults, and their labels.

`build_fleet` makes any mix of device types from a `FleetDefinition` (YAML): households
in several cities, production batches, type-specific faults, failing sensors and
outages. `build_fridge_fleet` is the older, fridges-around-Shanghai shortcut.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

import numpy as np

from device_sim import kinds
from device_sim.connectivity import OfflineSpell, sample_spells
from device_sim.customers import Customer, form_households
from device_sim.faults import FRIDGE_FAULTS, FaultSpec, GroundTruth
from device_sim.fleet_definition import GENERIC_FAULTS, Batch, FleetDefinition, PinnedFault
from device_sim.fridge import FridgeUnit
from device_sim.sensor_faults import SensorFailure, SensorFault, sample_sensor_fault
from domain import DeviceInfo, DeviceType, FaultCode, Location
from domain.devices import CustomerTier

CITY_CENTRE = Location(lat=31.23, lon=121.47)  # People's Square, Shanghai
SERVICE_RADIUS_KM = 30.0
DEFAULT_FAULT_WINDOW = (6 * 3600.0, 36 * 3600.0)
_KM_PER_DEG_LAT = 111.32

U = TypeVar("U")


@dataclass(frozen=True)
class Fleet(Generic[U]):
    """Provisioning facts, the simulated units behind them, and the ground truth.

    `units[i]` simulates `devices[i]`. Failing sensors and outages are not part of a
    unit's physics: they transform its output (`sensor_faults`, `outages`). `customers`
    are the households owning the devices (empty for `build_fridge_fleet`).
    """

    devices: list[DeviceInfo]
    units: list[U]
    ground_truth: list[GroundTruth]
    seed: int
    start_ts: float
    _by_id: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    sensor_faults: tuple[SensorFault, ...] = ()
    outages: tuple[OfflineSpell, ...] = ()
    customers: tuple[Customer, ...] = ()
    # Devices reporting at their own interval (s) rather than the run's (robustness mode).
    report_intervals: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id.update({d.device_id: i for i, d in enumerate(self.devices)})

    def unit(self, device_id: str) -> U:
        return self.units[self._index(device_id)]

    def device(self, device_id: str) -> DeviceInfo:
        return self.devices[self._index(device_id)]

    def _index(self, device_id: str) -> int:
        try:
            return self._by_id[device_id]
        except KeyError:
            raise KeyError(f"no device {device_id!r} in this fleet") from None


def build_fridge_fleet(
    *,
    count: int,
    seed: int,
    faulty: Mapping[FaultCode, int] | None = None,
    start_ts: float,
    fault_window: tuple[float, float] = DEFAULT_FAULT_WINDOW,
    prefix: str = "fridge",
    faults: Mapping[str, FaultSpec] | None = None,
    warm_kitchens: int | None = None,
) -> Fleet[FridgeUnit]:
    """Build `count` fridges deterministically from `seed`.

    `faulty` asks for that many units with each fault, onsets uniform in `fault_window`
    (seconds after `start_ts`); `faults` pins a fault on a named device (e.g. the demo's
    "fridge-0001 loses its compressor ten minutes in"). `warm_kitchens` fixes how many
    units stand in hot kitchens (otherwise about one in five).
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    ids = [f"{prefix}-{i:04d}" for i in range(1, count + 1)]
    pinned = dict(faults or {})
    unknown = sorted(set(pinned) - set(ids))
    if unknown:
        raise ValueError(f"faults name devices not in the fleet: {', '.join(unknown)}")
    rng = np.random.default_rng([seed, 0xF1EE7])
    chosen = _draw_faults(rng, ids, pinned, faulty or {}, start_ts, fault_window)
    warm: set[str] | None = None
    if warm_kitchens is not None:
        if not 0 <= warm_kitchens <= count:
            raise ValueError(f"warm_kitchens must be in 0..{count}, got {warm_kitchens}")
        warm = {ids[i] for i in rng.choice(count, size=warm_kitchens, replace=False)}

    units: list[FridgeUnit] = []
    devices: list[DeviceInfo] = []
    for index, device_id in enumerate(ids):
        unit_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
        unit = FridgeUnit.sample(
            device_id,
            unit_seed,
            warm_kitchen=None if warm is None else device_id in warm,
            fault=chosen.get(device_id),
        )
        units.append(unit)
        devices.append(_device_info(device_id, unit, np.random.default_rng([unit_seed, 9])))
    truth = [
        GroundTruth(device_id, spec.code, spec.onset_ts)
        for device_id, spec in sorted(chosen.items())
    ]
    return Fleet(devices, units, truth, seed, float(start_ts))


def _draw_faults(
    rng: np.random.Generator,
    ids: list[str],
    pinned: dict[str, FaultSpec],
    faulty: Mapping[FaultCode, int],
    start_ts: float,
    window: tuple[float, float],
) -> dict[str, FaultSpec]:
    wanted = [(code, faulty.get(code, 0)) for code in FRIDGE_FAULTS]
    extra = sorted(set(faulty) - set(FRIDGE_FAULTS))
    if extra:
        raise ValueError(f"the fridge simulator cannot inject {', '.join(extra)}")
    free = [d for d in ids if d not in pinned]
    total = sum(n for _, n in wanted)
    if total > len(free):
        raise ValueError(f"{total} faulty units asked for, only {len(free)} fridges free")
    picked = [free[i] for i in sorted(rng.choice(len(free), size=total, replace=False))]
    rng.shuffle(picked)
    chosen = dict(pinned)
    lo, hi = window
    for code, n in wanted:
        for _ in range(n):
            severity = (
                1.0 if code is FaultCode.FRIDGE_COMPRESSOR_FAILURE else rng.uniform(0.85, 1.0)
            )
            onset = start_ts + float(rng.uniform(lo, hi))
            chosen[picked.pop()] = FaultSpec(code, onset, float(severity))
    return chosen


def _device_info(device_id: str, unit: FridgeUnit, rng: np.random.Generator) -> DeviceInfo:
    # Uniform over a disc around the centre: sqrt keeps the density even.
    r_km = SERVICE_RADIUS_KM * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    lat = CITY_CENTRE.lat + r_km * math.cos(bearing) / _KM_PER_DEG_LAT
    lon = CITY_CENTRE.lon + r_km * math.sin(bearing) / (
        _KM_PER_DEG_LAT * math.cos(math.radians(CITY_CENTRE.lat))
    )
    installed = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 7 * 365)))
    model = unit.params.model
    tier = rng.choice(
        [CustomerTier.STANDARD, CustomerTier.PREMIUM, CustomerTier.VIP], p=[0.7, 0.22, 0.08]
    )
    return DeviceInfo(
        device_id=device_id,
        type=DeviceType.FRIDGE,
        model=model,
        customer_id=f"c-{int(rng.integers(10_000, 100_000))}",
        location=Location(round(lat, 5), round(lon, 5)),
        serial=f"{model.replace('-', '')}{installed:%y%m}{int(rng.integers(0, 1_000_000)):06d}",
        production_batch=f"{model}-{installed.year - 1}-{int(rng.integers(1, 13)):02d}",
        firmware=str(rng.choice(["3.1.4", "3.2.0", "3.2.1"])),
        install_date=installed,
        customer_tier=CustomerTier(tier),
    )


# Independent random streams of build_fleet (the second word of a generator's seed).
_STREAM_MODELS = 1
_STREAM_HOUSEHOLDS = 2
_STREAM_DEVICE = 3
_SENSOR_FAILURES = {
    FaultCode.SENSOR_STUCK: SensorFailure.STUCK,
    FaultCode.SENSOR_OUT_OF_RANGE: SensorFailure.OUT_OF_RANGE,
}
_NOISY = "noisy sensor"
_FIRMWARE = ("3.1.4", "3.2.0", "3.2.1")


def build_fleet(
    definition: FleetDefinition, seed: int | None = None, *, start_ts: float | None = None
) -> Fleet[Any]:
    """Build the fleet `definition` describes, deterministically from `seed`.

    `seed` and `start_ts` default to the definition's. Each device draws at most one
    fault: a type-specific one (handed to its simulator), a failing sensor, or outages;
    its production batch's `fault_multiplier` scales the hardware faults' rates.
    Units of one type keep their seeds when other types' counts change.
    """
    seed = definition.seed if seed is None else seed
    start = definition.start_ts if start_ts is None else start_ts
    if start is None:
        raise ValueError(f"fleet {definition.name!r} has no start: pass start_ts")
    start = float(start)
    duration = definition.duration
    faults = definition.faults
    plan: list[_Planned] = []
    for type_index, device_type in enumerate(DeviceType):
        spec = definition.devices.get(device_type)
        if spec is None or spec.count == 0:
            continue
        kind = kinds.kind(device_type)
        models = [m for m in sorted(spec.models) for _ in range(spec.models[m])]
        models = [
            models[i]
            for i in np.random.default_rng([seed, _STREAM_MODELS, type_index]).permutation(
                len(models)
            )
        ]
        width = max(4, len(str(len(models))))
        batches = [b for b in definition.batches if b.type is device_type]
        for index, model in enumerate(models):
            unit_seed = int(np.random.SeedSequence([seed, type_index, index]).generate_state(1)[0])
            rng = np.random.default_rng([unit_seed, _STREAM_DEVICE])
            batch = _pick_batch(rng, batches, model)
            plan.append(
                _Planned(f"{kind.id_prefix}-{index + 1:0{width}d}", kind, model, unit_seed, batch)
            )
    by_id = {p.device_id: p for p in plan}
    pinned = _check_pinned(faults.pinned, by_id)

    units: list[Any] = []
    sensor_faults: list[SensorFault] = []
    outages: list[OfflineSpell] = []
    truth: list[GroundTruth] = []
    window = (start + faults.onset_window[0] * duration, start + faults.onset_window[1] * duration)
    for p in plan:
        draw = random.Random(p.seed)
        fault_spec: FaultSpec | None = None
        chosen = pinned.get(p.device_id)
        code: FaultCode | str | None
        if chosen is not None:
            code, onset = chosen.code, start + chosen.onset_s
            end = None if chosen.end_s is None else start + chosen.end_s
            severity = chosen.severity
        else:
            code = _draw_code(draw, p, definition)
            onset, end = round(draw.uniform(*window), 3), None
            severity = round(draw.uniform(*faults.severity), 3)
        if code is None:
            pass
        elif code == _NOISY or code in _SENSOR_FAILURES:
            failure = SensorFailure.NOISY if code == _NOISY else _SENSOR_FAILURES[FaultCode(code)]
            sensor = sample_sensor_fault(
                p.device_id, failure, p.kind.sensors, draw, onset_ts=onset, end_ts=end
            )
            sensor_faults.append(sensor)
            truth.append(sensor.ground_truth())
        elif code is FaultCode.DEVICE_OFFLINE:
            if end is not None:
                spells = [OfflineSpell(p.device_id, onset, end)]
            else:
                o = faults.outages
                spells = sample_spells(
                    p.device_id, draw, start_ts=window[0], end_ts=start + duration,
                    spells=o.spells, hours=o.hours, backlog_share=o.backlog_share,
                    backlog_hours=o.backlog_hours,
                )  # fmt: skip
            outages.extend(spells)
            truth.extend(s.ground_truth() for s in spells)
        else:
            fault_spec = FaultSpec(FaultCode(code), onset, severity)
            truth.append(GroundTruth(p.device_id, fault_spec.code, onset))
        units.append(p.kind.sample(p.device_id, p.seed, model=p.model, fault=fault_spec))

    ids_by_type: dict[DeviceType, list[str]] = {}
    for p in plan:
        ids_by_type.setdefault(p.kind.type, []).append(p.device_id)
    customers = form_households(
        ids_by_type,
        definition.customers,
        definition.regions,
        np.random.default_rng([seed, _STREAM_HOUSEHOLDS]),
    )
    owner = {d: c for c in customers for d in c.device_ids}
    devices = [_info(p, owner[p.device_id], start) for p in plan]
    truth.sort(key=lambda g: (g.onset_ts, g.device_id))
    return Fleet(
        devices,
        units,
        truth,
        seed,
        start,
        sensor_faults=tuple(sensor_faults),
        outages=tuple(outages),
        customers=tuple(customers),
    )


@dataclass(frozen=True, slots=True)
class _Planned:
    device_id: str
    kind: kinds.DeviceKind
    model: str
    seed: int
    batch: Batch | None


def _pick_batch(rng: np.random.Generator, batches: Sequence[Batch], model: str) -> Batch | None:
    u = rng.random()
    for batch in batches:
        if batch.model != model:
            continue
        if u < batch.share:
            return batch
        u -= batch.share
    return None


def _draw_code(
    draw: random.Random, p: _Planned, definition: FleetDefinition
) -> FaultCode | str | None:
    """At most one fault per device; a batch's multiplier raises its hardware faults' odds."""
    faults = definition.faults
    multiplier = p.batch.fault_multiplier if p.batch is not None else 1.0
    options: list[tuple[FaultCode | str, float]] = []
    for code, rate in faults.rates.items():
        if code in p.kind.faults or code in GENERIC_FAULTS:
            options.append((code, rate if code is FaultCode.DEVICE_OFFLINE else rate * multiplier))
    if faults.noisy_sensor_rate:
        options.append((_NOISY, faults.noisy_sensor_rate * multiplier))
    total = sum(rate for _, rate in options)
    scale = 1.0 / total if total > 1.0 else 1.0
    u = draw.random()
    for option, rate in options:
        u -= rate * scale
        if u < 0:
            return option
    return None


def _check_pinned(
    pinned: Sequence[PinnedFault], by_id: Mapping[str, _Planned]
) -> dict[str, PinnedFault]:
    out = {}
    for index, chosen in enumerate(pinned):
        p = by_id.get(chosen.device_id)
        if p is None:
            raise ValueError(
                f"faults.pinned[{index}]: no device {chosen.device_id!r} in this fleet"
            )
        if chosen.code not in GENERIC_FAULTS and chosen.code not in p.kind.faults:
            raise ValueError(
                f"faults.pinned[{index}]: the {p.kind.type.value} simulator cannot inject "
                f"{chosen.code.value} (it injects {', '.join(p.kind.faults)})"
            )
        if chosen.device_id in out:
            raise ValueError(f"faults.pinned[{index}]: {chosen.device_id} is pinned twice")
        out[chosen.device_id] = chosen
    return out


def _info(p: _Planned, customer: Customer, start_ts: float) -> DeviceInfo:
    rng = np.random.default_rng([p.seed, _STREAM_DEVICE, 1])
    start_day = datetime.fromtimestamp(start_ts, UTC).date()
    if p.batch is not None and p.batch.produced is not None:
        installed = p.batch.produced + timedelta(days=int(rng.integers(14, 365)))
        batch = p.batch.id
    else:
        installed = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 7 * 365)))
        batch = (
            p.batch.id
            if p.batch
            else f"{p.model}-{installed.year - 1}-{int(rng.integers(1, 13)):02d}"
        )
    installed = min(installed, start_day)
    return DeviceInfo(
        device_id=p.device_id,
        type=p.kind.type,
        model=p.model,
        customer_id=customer.customer_id,
        location=customer.location,
        serial=f"{p.model.replace('-', '')}{installed:%y%m}{int(rng.integers(0, 1_000_000)):06d}",
        production_batch=batch,
        firmware=_FIRMWARE[int(rng.integers(len(_FIRMWARE)))],
        install_date=installed,
        customer_tier=customer.tier,
    )
