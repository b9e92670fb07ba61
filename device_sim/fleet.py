"""A fleet of simulated fridges around Shanghai, some with injected faults and their labels."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from device_sim.faults import FRIDGE_FAULTS, FaultSpec, GroundTruth
from device_sim.fridge import FridgeUnit
from domain import DeviceInfo, DeviceType, FaultCode, Location
from domain.devices import CustomerTier

CITY_CENTRE = Location(lat=31.23, lon=121.47)  # People's Square, Shanghai
SERVICE_RADIUS_KM = 30.0
DEFAULT_FAULT_WINDOW = (6 * 3600.0, 36 * 3600.0)
_KM_PER_DEG_LAT = 111.32


@dataclass(frozen=True)
class Fleet:
    """Provisioning facts, the simulated units behind them, and the ground truth."""

    devices: list[DeviceInfo]
    units: list[FridgeUnit]
    ground_truth: list[GroundTruth]
    seed: int
    start_ts: float
    _by_id: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({d.device_id: i for i, d in enumerate(self.devices)})

    def unit(self, device_id: str) -> FridgeUnit:
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
) -> Fleet:
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
