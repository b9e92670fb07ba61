"""A simulated Li-ion battery pack (robot vacuum, e-bike): usage, charging, heat and ageing.

Each `BatteryUnit` is an equivalent circuit (open-circuit voltage by state of charge, a
series resistance and one RC pair) with a lumped thermal mass, charged CC/CV by its dock
or charger and discharged by its owner's habits (cleaning runs, commutes, hill climbs).
Capacity fades with equivalent full cycles and calendar age, its shape calibrated on the
NASA PCoE cells; a bad cell (`BATTERY_WEAR`) or an internal short (`BATTERY_OVERHEAT`)
can be injected. `BatteryBank` steps many packs at once with numpy, in event time.

Sign convention, as a smart-battery gauge reports it: `current_a` is positive while
charging and negative while discharging.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from device_sim.bank import UnitBank
from device_sim.faults import FaultSpec, check_injectable
from device_sim.sampling import draw_ranges, start_sample
from domain import FaultCode, Reading

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DAY_S = 86400.0
HOUR_S = 3600.0

METRICS = (
    "voltage_v",
    "current_a",
    "temp_c",
    "soc_pct",
    "cycle_count",
    "full_charge_capacity_mah",
    "design_capacity_mah",
)

BATTERY_FAULTS: tuple[FaultCode, ...] = (FaultCode.BATTERY_WEAR, FaultCode.BATTERY_OVERHEAT)

# Independent random streams per unit (the second word of the generator's seed; 0 is the
# per-unit variation drawn by `start_sample`).
_STREAM_USAGE = 1
_STREAM_WEATHER = 2
_STREAM_NOISE = 3
_STREAM_START = 4
_STREAM_SHORT = 5

# Capacity fade of the NASA PCoE 18650 cells (/work/shared/battery, capacity per discharge
# cycle). Least-squares fits of loss(n) = a*n + b*w*softplus((n - k)/w), w = 5, relative
# to the first cycles' capacity: B0005 a = 0.056 %/cycle, a + b = 0.22 %/cycle, knee
# k = 26; B0007 0.008 % -> 0.18 %, k = 16; B0006 and B0018 fade at 0.27 % and 0.23 % from
# the first cycle. A cell that goes bad follows this curve, sped up (see `wear_loss`).
NASA_PRE_KNEE_FADE = 0.0005  # per cycle
NASA_POST_KNEE_FADE = 0.0022  # per cycle
NASA_KNEE_CYCLES = 25.0
NASA_KNEE_WIDTH = 5.0
# A bad cell ages like a NASA cell cycled 1 + WEAR_SPEEDUP * severity times faster.
WEAR_SPEEDUP = 2.0
WEAR_MAX_LOSS = 0.8  # by then the cell is as good as dead
# The defect that makes a cell go bad (lithium plating, a soft micro-short) also drains
# it at rest faster than the pack's passive balancer can bleed the others to match, so
# the series string drifts out of balance and the usable capacity, bounded by the weak
# cell's charge window, falls day by day (calendar time, whatever the owner's cycling)
# until the balancer holds it. Usable capacity lost per day at severity 1, and the most.
IMBALANCE_PER_DAY = 0.008
IMBALANCE_MAX = 0.15
# After a long rest a cell gives back part of what it lost (NASA: +2-8 % after rests);
# the gain fades over a few cycles. Share of the loss recovered per day of rest, cap.
REGEN_PER_REST_DAY = 0.04
REGEN_MAX = 0.12
REGEN_FADE_CYCLES = 2.0
# Capacity is re-evaluated every this many reports.
SOH_EVERY_REPORTS = 10
# The gauge learns capacity from a charge that started below this state of charge.
LEARN_BELOW_SOC = 0.6
# The gauge counts a cycle per 90 % of design capacity discharged (TI bq gauges' default).
CYCLE_THRESHOLD = 0.9

# The BMS: no charging above this temperature, discharge derated to zero at this one.
BMS_CHARGE_MAX_C = 45.0
BMS_DISCHARGE_MAX_C = 60.0

# Open-circuit voltage of an NMC 18650 cell, every 5 % state of charge.
_OCV_SOC = np.linspace(0.0, 1.0, 21)
_OCV_V = np.array(
    [3.00, 3.30, 3.45, 3.53, 3.58, 3.62, 3.65, 3.68, 3.71, 3.75, 3.79,
     3.83, 3.87, 3.91, 3.95, 3.99, 4.03, 4.07, 4.11, 4.16, 4.20]
)  # fmt: skip


def ocv_cell(soc: FloatArray) -> FloatArray:
    """Open-circuit voltage of one cell at state of charge `soc` (0-1)."""
    return np.interp(soc, _OCV_SOC, _OCV_V)


def _softplus_hinge(n: FloatArray, knee: float | FloatArray, width: float) -> FloatArray:
    """width * softplus((n - knee) / width), zero at n = 0: 0 before the knee, n - knee after."""
    return width * (np.logaddexp(0.0, (n - knee) / width) - np.logaddexp(0.0, -knee / width))


def imbalance_loss(days_since_onset: FloatArray, severity: float | FloatArray) -> FloatArray:
    """Usable capacity (fraction) a bad cell's self-discharge has cost the pack so far."""
    return np.minimum(
        IMBALANCE_PER_DAY * severity * np.maximum(days_since_onset, 0.0), IMBALANCE_MAX
    )


def wear_loss(cycles_since_onset: FloatArray, severity: float | FloatArray) -> FloatArray:
    """Capacity a bad cell has lost (fraction) `cycles_since_onset` equivalent cycles in."""
    n = np.maximum(cycles_since_onset, 0.0) * (1.0 + WEAR_SPEEDUP * severity)
    knee = NASA_POST_KNEE_FADE - NASA_PRE_KNEE_FADE
    loss = NASA_PRE_KNEE_FADE * n + knee * _softplus_hinge(n, NASA_KNEE_CYCLES, NASA_KNEE_WIDTH)
    return np.minimum(loss, WEAR_MAX_LOSS)


@dataclass(frozen=True, slots=True)
class BatteryParams:
    """The pack as built (SI units: A, V, ohm, J/K, W/K, s; capacity in mAh)."""

    model: str = "RV-5200"
    series: int = 4
    design_mah: float = 5200.0
    r0_ohm: float = 0.12  # series resistance of the pack, new, at 25 °C
    r1_ohm: float = 0.05  # polarisation (RC pair)
    tau1_s: float = 60.0
    heat_capacity_j_k: float = 350.0
    cooling_w_k: float = 0.15  # to the surrounding air, parked or docked
    cooling_in_use: float = 1.0  # multiplies cooling while discharging (e-bike: airflow)
    device_heat_w: float = 0.8  # motors and electronics next to the pack, while running
    charge_a: float = 1.5
    cv_cell_v: float = 4.2
    term_a: float = 0.2  # charge ends when the CV current falls below this
    recharge_soc: float = 0.95
    cutoff_soc: float = 0.02  # the BMS opens the discharge FET below this
    initial_capacity: float = 1.02  # cells ship a little above their rating
    # Normal ageing: early SEI growth, a linear fade per equivalent full cycle, a late knee,
    # and calendar fade growing with the square root of (temperature-weighted) time.
    sei_loss: float = 0.02
    sei_cycles: float = 60.0
    fade_per_cycle: float = 0.0002
    knee_cycles: float = 1100.0
    knee_fade_per_cycle: float = 0.0008
    calendar_loss_per_sqrt_day: float = 0.0016
    fcc_temp_coeff: float = 0.002  # capacity the gauge learns, per kelvin above 25 °C
    # Faults.
    short_w: float = 5.0  # heat of an internal short at severity 1 (full cell voltage)
    fault_ir_gain: float = 2.0  # resistance multiplies by 1 + gain * severity
    # Measurement.
    volt_noise_v: float = 0.01
    current_noise_a: float = 0.01
    temp_noise_c: float = 0.1
    fcc_noise: float = 0.004  # relative, per capacity learned

    @property
    def design_ah(self) -> float:
        return self.design_mah / 1000.0

    def normal_loss(self, cycles: FloatArray, calendar_days: FloatArray) -> FloatArray:
        """Capacity lost (fraction of design) to normal cycle and calendar ageing."""
        return normal_loss(
            {f.name: getattr(self, f.name) for f in fields(self)}, cycles, calendar_days
        )


_MODELS: dict[str, dict[str, tuple[float, float]]] = {
    # Ranges per model; each unit draws uniformly from them.
    "RV-5200": {  # robot vacuum, 4S2P 18650 NMC, 14.4 V
        "r0_ohm": (0.10, 0.14),
        "r1_ohm": (0.04, 0.06),
        "heat_capacity_j_k": (300.0, 400.0),
        "cooling_w_k": (0.12, 0.20),
        "device_heat_w": (0.5, 1.5),
        "charge_a": (1.2, 2.0),
        "initial_capacity": (1.00, 1.04),
        "fade_per_cycle": (0.00015, 0.00025),
        "knee_cycles": (900.0, 1300.0),
        "calendar_loss_per_sqrt_day": (0.0013, 0.0019),
        "short_w": (4.0, 6.0),
    },
    "EB-14000": {  # e-bike, 10S4P (36 V) or 13S4P (48 V) 21700 NMC
        "r0_ohm": (0.06, 0.09),  # for 10S; 13S scales it
        "r1_ohm": (0.02, 0.04),
        "heat_capacity_j_k": (1900.0, 2600.0),
        "cooling_w_k": (0.35, 0.60),
        "cooling_in_use": (2.0, 3.0),
        "device_heat_w": (0.0, 0.5),
        "initial_capacity": (1.00, 1.03),
        "fade_per_cycle": (0.00015, 0.00030),
        "knee_cycles": (800.0, 1200.0),
        "calendar_loss_per_sqrt_day": (0.0013, 0.0020),
        "short_w": (8.0, 12.0),
    },
}
MODELS: tuple[str, ...] = tuple(_MODELS)


@dataclass(frozen=True, slots=True)
class Climate:
    """Air around the pack: indoors, outdoors, and hot days (a heatwave, no air conditioning)."""

    indoor_c: float = 23.0
    indoor_swing_c: float = 1.0
    outdoor_c: float = 20.0
    outdoor_swing_c: float = 5.0
    peak_hour: float = 15.0
    weather_sd_c: float = 2.0  # day-to-day variation of the outdoor daily mean
    hot_day_prob: float = 0.1
    hot_day_c: float = 9.0  # extra outdoor warmth on a hot day
    indoor_coupling: float = 0.5  # share of the outdoor anomaly that reaches indoors
    storage_outdoor_share: float = 0.0  # garage or hallway: part way to outdoors
    utc_offset_s: float = 8 * HOUR_S

    def ambient_c(self, ts: FloatArray, outdoors: FloatArray, seed: int) -> FloatArray:
        """Air temperature at each event time; `outdoors` 1 where the pack is outside."""
        local = ts + self.utc_offset_s
        hour = (local % DAY_S) / HOUR_S
        cycle = np.cos(2 * np.pi * (hour - self.peak_hour) / 24.0)
        anomaly = self._anomaly(local, seed)
        outside = self.outdoor_c + self.outdoor_swing_c * cycle + anomaly
        inside = self.indoor_c + self.indoor_swing_c * cycle + self.indoor_coupling * anomaly
        share = np.maximum(outdoors, self.storage_outdoor_share)
        return inside + share * (outside - inside)

    def _anomaly(self, local: FloatArray, seed: int) -> FloatArray:
        # One offset per local day, blended with a raised cosine centred on noon.
        pos = local / DAY_S - 0.5
        first = math.floor(float(pos.min()))
        last = math.floor(float(pos.max())) + 1
        offsets = np.array([self.day_offset_c(d, seed) for d in range(first, last + 1)])
        idx = np.floor(pos).astype(np.int64) - first
        blend = 0.5 - 0.5 * np.cos(np.pi * (pos - np.floor(pos)))
        return offsets[idx] * (1 - blend) + offsets[idx + 1] * blend

    def day_offset_c(self, day: int, seed: int) -> float:
        """The outdoor daily mean's departure from normal on local `day` (hot days included)."""
        rng = np.random.default_rng([seed, _STREAM_WEATHER, day % (1 << 32)])
        offset = float(rng.normal(0.0, self.weather_sd_c))
        if rng.random() < self.hot_day_prob:
            offset += self.hot_day_c * float(rng.uniform(0.8, 1.2))
        return offset


@dataclass(frozen=True, slots=True)
class Sessions:
    """Power drawn from the pack: segments `[start, end)` at `watts`, `outdoors` 1/0.

    `plug_ts` are the moments an e-bike owner may plug the charger in (they do if the
    state of charge is below their habit); a vacuum docks whenever it is not cleaning.
    """

    start: FloatArray
    end: FloatArray
    watts: FloatArray
    outdoors: FloatArray
    plug_ts: FloatArray


@dataclass(frozen=True, slots=True)
class Habits:
    """How an owner uses the pack. `kind` is "vacuum" (cleaning runs from a dock) or
    "ebike" (commutes, weekend rides, plugging in in the evening)."""

    kind: str = "vacuum"
    # Robot vacuum: scheduled runs (local hours) that end early when the battery runs low.
    run_hours: tuple[float, ...] = (10.0,)
    run_prob: float = 0.85
    run_minutes: float = 70.0
    run_w: float = 32.0
    boost_w: float = 65.0  # carpet boost
    carpet_share: float = 0.25
    return_soc: float = 0.18
    # E-bike: workday commutes with hill climbs, weekend rides, evening charging.
    commute_prob: float = 0.85
    depart_hour: float = 8.0
    return_hour: float = 18.0
    trip_minutes: float = 25.0
    assist_w: float = 180.0
    climbs_per_trip: float = 1.0
    climb_w: float = 600.0
    weekend_ride_prob: float = 0.4
    weekend_minutes: float = 90.0
    plug_hour: float = 21.0
    plug_below_soc: float = 0.5
    utc_offset_s: float = 8 * HOUR_S

    def cycles_per_day(self, design_wh: float) -> float:
        """Rough equivalent full cycles a day these habits cost (for a pack's starting age)."""
        if self.kind == "vacuum":
            run_wh = self.run_minutes / 60 * (self.run_w + self.carpet_share * self.boost_w)
            wh = min(run_wh, 0.8 * design_wh) * len(self.run_hours) * self.run_prob
        else:
            trip_wh = self.trip_minutes / 60 * self.assist_w * 0.9
            wh = 2 * trip_wh * self.commute_prob * 5 / 7
            wh += self.weekend_minutes / 60 * self.assist_w * self.weekend_ride_prob * 2 / 7
        return wh / design_wh

    def sessions(self, start_ts: float, end_ts: float, seed: int) -> Sessions:
        """Every session overlapping `[start_ts, end_ts)`, day by day from `seed`."""
        first = math.floor((start_ts + self.utc_offset_s) / DAY_S) - 1
        last = math.floor((end_ts + self.utc_offset_s) / DAY_S)
        parts: list[list[npt.NDArray[Any]]] = [[], [], [], []]
        plugs: list[float] = []
        for day in range(first, last + 1):
            rng = np.random.default_rng([seed, _STREAM_USAGE, day % (1 << 32)])
            midnight = day * DAY_S - self.utc_offset_s
            weekend = (day + 3) % 7 >= 5  # 1970-01-01 was a Thursday
            if self.kind == "vacuum":
                trips = self._cleaning(rng, midnight)
            else:
                trips = self._rides(rng, midnight, weekend)
                plugs.append(midnight + (self.plug_hour + rng.normal(0.0, 0.5)) * HOUR_S)
            for begin, minutes, outside in trips:
                profile = self._profile(rng, minutes, outside)
                starts = begin + 60.0 * np.arange(profile.size)
                parts[0].append(starts)
                parts[1].append(starts + 60.0)
                parts[2].append(profile)
                parts[3].append(np.full(profile.size, 1.0 if outside else 0.0))
        if not parts[0]:
            empty = np.zeros(0)
            return Sessions(empty, empty, empty, empty, np.asarray(plugs))
        start, end, watts, outdoors = (np.concatenate(p) for p in parts)
        order = np.argsort(start, kind="stable")
        start, end, watts, outdoors = start[order], end[order], watts[order], outdoors[order]
        # Trips never overlap: one that runs into the next is cut short where it begins.
        end = np.minimum(end, np.append(start[1:], np.inf))
        keep = (end > start_ts) & (start < end_ts)
        return Sessions(start[keep], end[keep], watts[keep], outdoors[keep], np.asarray(plugs))

    def _cleaning(self, rng: np.random.Generator, midnight: float) -> list[tuple[float, int, bool]]:
        trips = []
        for hour in self.run_hours:
            go = rng.random() < self.run_prob
            at = midnight + (hour + rng.normal(0.0, 0.3)) * HOUR_S
            minutes = int(self.run_minutes * rng.uniform(0.7, 1.3))
            if go:
                trips.append((at, minutes, False))
        return trips

    def _rides(
        self, rng: np.random.Generator, midnight: float, weekend: bool
    ) -> list[tuple[float, int, bool]]:
        trips = []
        commute = rng.random() < self.commute_prob
        leisure = rng.random() < self.weekend_ride_prob
        depart = midnight + (self.depart_hour + rng.normal(0.0, 0.25)) * HOUR_S
        back = midnight + (self.return_hour + rng.normal(0.0, 0.5)) * HOUR_S
        ride_at = midnight + rng.uniform(9.0, 15.0) * HOUR_S
        out = int(self.trip_minutes * rng.uniform(0.85, 1.2))
        home = int(self.trip_minutes * rng.uniform(0.85, 1.3))
        long = int(self.weekend_minutes * rng.uniform(0.6, 1.4))
        if weekend and leisure:
            trips.append((ride_at, long, True))
        elif not weekend and commute:
            trips += [(depart, out, True), (back, home, True)]
        return trips

    def _profile(self, rng: np.random.Generator, minutes: int, outdoors: bool) -> FloatArray:
        """Watts drawn, minute by minute, through one run or ride."""
        minutes = max(minutes, 1)
        if not outdoors:
            watts = self.run_w * rng.lognormal(0.0, 0.12, minutes)
            carpet = rng.random(minutes) < self.carpet_share
            return np.where(carpet, self.boost_w * rng.uniform(0.85, 1.1, minutes), watts)
        watts = self.assist_w * rng.lognormal(0.0, 0.3, minutes)
        watts = np.where(rng.random(minutes) < 0.12, 0.15 * watts, watts)  # lights, coasting
        for _ in range(rng.poisson(self.climbs_per_trip * minutes / self.trip_minutes)):
            length = int(rng.integers(1, 5))
            at = int(rng.integers(0, max(minutes - length, 1)))
            watts[at : at + length] = self.climb_w * rng.uniform(0.8, 1.2)
        return np.asarray(watts)


@dataclass(frozen=True, slots=True)
class BatteryUnit:
    """One pack in service: its build, its owner's habits and climate, its age, any fault."""

    device_id: str
    params: BatteryParams = field(default_factory=BatteryParams)
    habits: Habits = field(default_factory=Habits)
    climate: Climate = field(default_factory=Climate)
    seed: int = 0
    fault: FaultSpec | None = None
    age_days: float = 180.0
    start_cycles: float = 150.0  # equivalent full cycles before the simulation starts

    @classmethod
    def sample(
        cls,
        device_id: str,
        seed: int,
        *,
        model: str | None = None,
        fault: FaultSpec | None = None,
        age_days: float | None = None,
    ) -> BatteryUnit:
        """A pack with realistic per-unit variation drawn deterministically from `seed`.

        Healthy packs are sampled young enough (at most ~1.5 years) to be far from end of
        life; pass `age_days` for an old pack (its cycles follow from the owner's habits).
        """
        rng, model = start_sample(
            kind="battery",
            seed=seed,
            model=model,
            models=MODELS,
            fault=fault,
            faults=BATTERY_FAULTS,
        )
        drawn = draw_ranges(rng, _MODELS[model])
        hot_days = float(rng.uniform(0.03, 0.2))
        if model == "RV-5200":
            params = BatteryParams(model=model, **drawn)  # type: ignore[arg-type]
            runs: tuple[float, ...] = (float(rng.uniform(9.0, 11.0)),)
            if rng.random() < 0.4:
                runs += (float(rng.uniform(14.0, 17.0)),)
            habits = Habits(
                kind="vacuum",
                run_hours=runs,
                run_prob=float(rng.uniform(0.6, 0.95)),
                run_minutes=float(rng.uniform(45.0, 100.0)),
                run_w=float(rng.uniform(25.0, 40.0)),
                boost_w=float(rng.uniform(55.0, 75.0)),
                carpet_share=float(rng.uniform(0.05, 0.45)),
                return_soc=float(rng.uniform(0.15, 0.20)),
            )
            climate = Climate(
                indoor_c=float(rng.uniform(20.0, 26.0)),
                indoor_swing_c=float(rng.uniform(0.5, 2.0)),
                outdoor_c=float(rng.uniform(12.0, 28.0)),
                hot_day_prob=hot_days,
                indoor_coupling=float(rng.uniform(0.3, 0.7)),
            )
        else:
            series = int(rng.choice([10, 13]))
            fast = rng.random() < 0.3  # a 4-5 A fast charger instead of the 2 A one
            params = BatteryParams(
                model=model,
                series=series,
                design_mah=14000.0,
                charge_a=float(rng.uniform(4.0, 5.0) if fast else rng.uniform(1.8, 2.2)),
                term_a=0.5,
                **{**drawn, "r0_ohm": drawn["r0_ohm"] * series / 10},
            )
            habits = Habits(
                kind="ebike",
                commute_prob=float(rng.uniform(0.6, 0.95)),
                depart_hour=float(rng.uniform(7.0, 9.0)),
                return_hour=float(rng.uniform(17.0, 19.5)),
                trip_minutes=float(rng.uniform(15.0, 45.0)),
                assist_w=float(rng.uniform(120.0, 260.0)) * series / 10,
                climbs_per_trip=float(rng.uniform(0.0, 3.0)),
                climb_w=float(rng.uniform(450.0, 750.0)) * series / 10,
                weekend_ride_prob=float(rng.uniform(0.1, 0.6)),
                weekend_minutes=float(rng.uniform(45.0, 150.0)),
                plug_hour=float(rng.uniform(19.0, 23.0)),
                plug_below_soc=float(rng.choice([0.3, 0.5, 0.7, 1.01])),
            )
            climate = Climate(
                indoor_c=float(rng.uniform(18.0, 26.0)),
                outdoor_c=float(rng.uniform(10.0, 28.0)),
                outdoor_swing_c=float(rng.uniform(3.0, 7.0)),
                hot_day_prob=hot_days,
                storage_outdoor_share=float(rng.uniform(0.0, 0.6)),
            )
        if age_days is None:
            age_days = float(rng.uniform(20.0, 540.0))
        design_wh = params.design_ah * params.series * 3.7
        cycles = age_days * habits.cycles_per_day(design_wh) * float(rng.uniform(0.8, 1.2))
        return cls(device_id, params, habits, climate, seed, fault, float(age_days), cycles)

    def readings(
        self,
        *,
        start_ts: float,
        duration_s: float,
        interval_s: float = 60.0,
        max_step_s: float = 60.0,
    ) -> Iterator[Reading]:
        """This unit's readings on its own (identical to its readings in a bank)."""
        bank = BatteryBank([self], start_ts=start_ts, interval_s=interval_s, max_step_s=max_step_s)
        for ts, metrics in bank.ticks(duration_s):
            yield Reading(self.device_id, ts, bank.seq, {k: v[0] for k, v in metrics.items()})

    def with_fault(self, fault: FaultSpec | None) -> BatteryUnit:
        """The same pack and owner with another fault (or none)."""
        if fault is not None:
            check_injectable(fault.code, BATTERY_FAULTS, "battery pack")
        return replace(self, fault=fault)


def _column(units: Sequence[BatteryUnit], name: str) -> FloatArray:
    return np.array([getattr(u.params, name) for u in units], dtype=np.float64)


def _severity(units: Sequence[BatteryUnit], code: FaultCode) -> tuple[FloatArray, FloatArray]:
    """Per unit: the fault's severity (0 without it) and its onset (inf without it)."""
    sev = np.array([u.fault.severity if u.fault and u.fault.code is code else 0.0 for u in units])
    onset = np.array(
        [u.fault.onset_ts if u.fault and u.fault.code is code else np.inf for u in units]
    )
    return sev, onset


class BatteryBank(UnitBank[BatteryUnit]):
    """Steps a set of packs together in event time, vectorised across packs.

    Inputs that do not depend on the state (ambient air, power demanded, charger plug-in
    moments, a short's episodes, measurement noise) are generated a day at a time; only
    the state update runs per internal step (at most `max_step_s`, a whole number of
    steps per report); ageing advances per report.
    """

    def __init__(
        self,
        units: Sequence[BatteryUnit],
        *,
        start_ts: float,
        interval_s: float = 60.0,
        max_step_s: float = 60.0,
    ) -> None:
        super().__init__(units, start_ts=start_ts, interval_s=interval_s, max_step_s=max_step_s)
        skip = {"model", "series"}
        p = {
            f.name: _column(self.units, f.name) for f in fields(BatteryParams) if f.name not in skip
        }
        p["series"] = np.array([u.params.series for u in self.units], dtype=np.float64)
        self._p = p
        n = len(self.units)
        self._vacuum = np.array([u.habits.kind == "vacuum" for u in self.units])
        self._return_soc = np.array([u.habits.return_soc for u in self.units])
        self._plug_below = np.array([u.habits.plug_below_soc for u in self.units])
        self._wear_sev, self._wear_onset = _severity(self.units, FaultCode.BATTERY_WEAR)
        self._heat_sev, self._heat_onset = _severity(self.units, FaultCode.BATTERY_OVERHEAT)
        self._noise_rngs = [np.random.default_rng([u.seed, _STREAM_NOISE]) for u in self.units]
        start = [np.random.default_rng([u.seed, _STREAM_START]) for u in self.units]
        amb = np.array(
            [
                u.climate.ambient_c(np.array([self.start_ts]), np.zeros(1), u.seed)[0]
                for u in self.units
            ]
        )
        # Ageing state: equivalent full cycles, temperature-weighted calendar days.
        self.cycles = np.array([u.start_cycles for u in self.units], dtype=np.float64)
        self.calendar_days = np.array([u.age_days for u in self.units], dtype=np.float64)
        # A bad cell that went bad before the start has aged since at the owner's pace.
        per_day = np.array(
            [u.start_cycles / max(u.age_days, 1.0) for u in self.units], dtype=np.float64
        )
        before = np.clip((self.start_ts - self._wear_onset) / DAY_S, 0.0, None)
        self.wear_from = np.where(
            np.isfinite(self._wear_onset) & (before > 0), self.cycles - before * per_day, np.nan
        )
        self.regen = np.zeros(n)
        self.soc = np.array(
            [
                r.uniform(0.9, 1.0) if v else r.uniform(0.4, 1.0)
                for r, v in zip(start, self._vacuum, strict=True)
            ]
        )
        self.temp = amb.copy()
        self.v_rc = np.zeros(n)
        self.plugged = self._vacuum.copy()
        self.full = self.soc > 0.97
        self.aborted = np.zeros(n, dtype=np.bool_)
        self.was_charging = np.zeros(n, dtype=np.bool_)
        self.charge_from = self.soc.copy()
        self.idle_since = np.full(n, self.start_ts)
        self._was_running = np.zeros(n, dtype=np.bool_)
        self.discharged_ah = self.cycles * p["design_mah"] / 1000.0
        self.soh = self._soh(self.start_ts)
        self.fcc_mah = np.round(p["design_mah"] * self.soh)

    def _soh(self, ts: float) -> FloatArray:
        """Capacity now as a share of design: normal ageing, a bad cell, rest recovery."""
        p = self._p
        healthy = p["initial_capacity"] - normal_loss(p, self.cycles, self.calendar_days)
        wearing = np.isfinite(self.wear_from)
        since = np.where(wearing, self.cycles - self.wear_from, 0.0)
        bad = np.where(wearing, wear_loss(since, self._wear_sev), 0.0)
        days = np.where(wearing, (ts - self._wear_onset) / DAY_S, 0.0)
        drift = np.where(wearing, imbalance_loss(days, self._wear_sev), 0.0)
        # Series cells: the pack holds what its weakest cell holds, within its window.
        base = healthy * (1.0 - bad) * (1.0 - drift)
        return np.asarray(base + self.regen * (p["initial_capacity"] - base))

    def ticks(self, duration_s: float) -> Iterator[tuple[float, dict[str, list[Any]]]]:
        """Yield `(ts, metrics)` per report, each metric a list with one value per unit."""
        reports = int(duration_s // self.interval_s + 1e-9)
        per_chunk = max(1, int(DAY_S // self.interval_s))
        done = 0
        while done < reports:
            count = min(per_chunk, reports - done)
            yield from self._chunk(done, count)
            done += count

    def _inputs(self, t0: float, count: int) -> dict[str, Any]:
        """Everything a chunk needs that does not depend on the state, per step and unit."""
        n, steps, dt = len(self.units), count * self.substeps, self.dt
        edges: FloatArray = t0 + dt * np.arange(steps + 1, dtype=np.float64)
        mids: FloatArray = edges[:-1] + dt / 2
        demand = np.zeros((steps, n))
        outdoors = np.zeros((steps, n))
        plug = np.zeros((steps, n), dtype=np.bool_)
        amb = np.empty((steps, n))
        episode = np.zeros((steps, n), dtype=np.bool_)
        noise = np.empty((count, n, 4))
        for i, u in enumerate(self.units):
            s = u.habits.sessions(float(edges[0]), float(edges[-1]), u.seed)
            if s.start.size:
                idx = np.searchsorted(s.start, mids, side="right") - 1
                safe = np.maximum(idx, 0)
                on = (idx >= 0) & (mids < s.end[safe])
                demand[:, i] = np.where(on, s.watts[safe], 0.0)
                outdoors[:, i] = np.where(on, s.outdoors[safe], 0.0)
            at = np.floor((s.plug_ts - t0) / dt).astype(np.int64)
            plug[at[(at >= 0) & (at < steps)], i] = True
            amb[:, i] = u.climate.ambient_c(mids, outdoors[:, i], u.seed)
            episode[:, i] = short_episodes(u.fault, mids, u.seed)
            noise[:, i, :] = self._noise_rngs[i].standard_normal((count, 4))
        return {
            "edges": edges,
            "demand": demand,
            "outdoors": outdoors,
            "plug": plug,
            "amb": amb,
            "episode": episode,
            "noise": noise,
        }

    def _chunk(self, first: int, count: int) -> Iterator[tuple[float, dict[str, list[Any]]]]:
        p, m, dt = self._p, self.substeps, self.dt
        t0 = self.start_ts + first * self.interval_s
        x = self._inputs(t0, count)
        edges, demand, amb, plug, episode, noise = (
            x["edges"],
            x["demand"],
            x["amb"],
            x["plug"],
            x["episode"],
            x["noise"],
        )
        ns, design_ah = p["series"], p["design_mah"] / 1000.0
        r1, decay = p["r1_ohm"], np.exp(-dt / p["tau1_s"])
        k_heat = dt / p["heat_capacity_j_k"]
        dt_h = dt / HOUR_S
        cv_v, term_a, charge_a = ns * p["cv_cell_v"], p["term_a"], p["charge_a"]
        vacuum, return_soc, plug_below = self._vacuum, self._return_soc, self._plug_below
        heat_sev, heat_onset, short_w = self._heat_sev, self._heat_onset, p["short_w"]
        fault_ir = 1.0 + p["fault_ir_gain"] * heat_sev
        in_use = p["cooling_in_use"] - 1.0
        noise_v, noise_i, noise_t = p["volt_noise_v"], p["current_noise_a"], p["temp_noise_c"]
        design_mah = p["design_mah"].tolist()

        soc, temp, v_rc = self.soc, self.temp, self.v_rc
        plugged, full, aborted = self.plugged, self.full, self.aborted
        was_charging, charge_from = self.was_charging, self.charge_from
        k = 0
        for r in range(count):
            # Per report: capacity, and resistance growing as the pack ages.
            capacity_ah = design_ah * self.soh
            r_age = p["r0_ohm"] * (1.0 + 1.5 * np.maximum(p["initial_capacity"] - self.soh, 0.0))
            current_sum = np.zeros_like(soc)
            discharged = np.zeros_like(soc)
            learned = np.zeros_like(plugged)
            current = np.zeros_like(soc)
            for _ in range(m):
                t = edges[k]
                watts = demand[k]
                active = watts > 0.0
                # A vacuum that runs low heads home and waits for its next run.
                aborted = active & (aborted | (vacuum & (soc <= return_soc)))
                running = active & ~aborted & (soc > p["cutoff_soc"])
                riding_plug = (plugged | (plug[k] & (soc < plug_below))) & ~active
                plugged = np.where(vacuum, ~running, riding_plug)
                full = full & plugged & (soc >= p["recharge_soc"])
                cell = ocv_cell(soc)
                faulty = t >= heat_onset
                # Resistance rises in the cold (and with a failing cell).
                res = r_age * np.minimum(np.maximum(np.exp(0.03 * (25.0 - temp)), 0.6), 3.0)
                res = res * np.where(faulty, fault_ir, 1.0)
                # CC/CV: constant current until the pack reaches the charge voltage, then
                # the current tapers; the charge ends below the termination current.
                charging = plugged & ~full
                began = charging & ~was_charging
                charge_from = np.where(began, soc, charge_from)
                was_charging = charging
                cv_limit = (cv_v - ns * cell - v_rc) / res
                i_chg = np.where(charging, np.maximum(np.minimum(charge_a, cv_limit), 0.0), 0.0)
                done = charging & (cv_limit < charge_a) & (i_chg < term_a)
                full = full | done
                # The gauge re-learns capacity only from a charge deep enough to measure it.
                learned = learned | (done & (charge_from < LEARN_BELOW_SOC))
                i_chg = np.where(done, 0.0, i_chg)
                # The BMS derates discharge above 55 °C (none at 60 °C) and pauses the
                # charge above 45 °C (JEITA).
                derate = np.minimum(np.maximum((BMS_DISCHARGE_MAX_C - temp) / 5.0, 0.0), 1.0)
                i_chg = np.where(temp < BMS_CHARGE_MAX_C, i_chg, 0.0)
                i_dis = np.where(running, watts * derate / np.maximum(ns * cell + v_rc, 1.0), 0.0)
                current = i_chg - i_dis
                v_rc = v_rc * decay + r1 * current * (1.0 - decay)
                # An internal short conducts in episodes, and while the charger pushes a
                # high current into a well-charged cell; an emptied cell has no more to give.
                pushed = charging & (soc > 0.6) & (i_chg > 0.5 * charge_a)
                shorting = faulty & (episode[k] | pushed)
                left = np.minimum(soc * 10.0, 1.0)
                short_heat = np.where(shorting, heat_sev * short_w * (cell / 4.2) ** 2 * left, 0.0)
                cooling = p["cooling_w_k"] * (1.0 + in_use * running)
                heat = current * current * (res + r1) + short_heat + p["device_heat_w"] * running
                temp = temp + k_heat * (heat - cooling * (temp - amb[k]))
                short_ah = short_heat / cell * dt_h
                soc = np.minimum(
                    np.maximum(soc + (current * dt_h - short_ah) / capacity_ah, 0.0), 1.0
                )
                discharged += i_dis * dt_h
                current_sum += current
                # Rest recovery: a cell given a day or more off gives back some capacity.
                rested = running & ~self._was_running & (t - self.idle_since > DAY_S)
                if rested.any():
                    gain = np.minimum(REGEN_PER_REST_DAY * (t - self.idle_since) / DAY_S, REGEN_MAX)
                    self.regen = np.where(rested, np.maximum(self.regen, gain), self.regen)
                self.idle_since = np.where(running, t, self.idle_since)
                self._was_running = running
                k += 1
            self._age(discharged, temp, float(edges[k]))
            self.fcc_mah = self._learn(learned, temp, noise[r, :, 3])
            mean_current = current_sum / m + noise_i * noise[r, :, 1]
            volts = ns * ocv_cell(soc) + current * res + v_rc + noise_v * noise[r, :, 0]
            self.seq += 1
            yield (
                round(float(edges[k]), 3),
                {
                    "voltage_v": np.round(volts, 2).tolist(),
                    "current_a": np.round(mean_current, 2).tolist(),
                    "temp_c": np.round(temp + noise_t * noise[r, :, 2], 1).tolist(),
                    "soc_pct": np.round(100.0 * soc).astype(np.int64).tolist(),
                    "cycle_count": self.cycle_count().tolist(),
                    "full_charge_capacity_mah": self.fcc_mah.astype(np.int64).tolist(),
                    "design_capacity_mah": design_mah,
                },
            )
        self.soc, self.temp, self.v_rc = soc, temp, v_rc
        self.plugged, self.full, self.aborted = plugged, full, aborted
        self.was_charging, self.charge_from = was_charging, charge_from

    def _age(self, discharged_ah: FloatArray, temp: FloatArray, ts: float) -> None:
        """Advance the ageing state by one report."""
        p = self._p
        before = self.cycles
        self.discharged_ah = self.discharged_ah + discharged_ah
        self.cycles = self.discharged_ah / (p["design_mah"] / 1000.0)
        # Calendar fade doubles every 10 K above 25 °C (Arrhenius, roughly).
        self.calendar_days = self.calendar_days + self.interval_s / DAY_S * 2.0 ** (
            (temp - 25.0) / 10.0
        )
        self.regen = self.regen * np.exp(-(self.cycles - before) / REGEN_FADE_CYCLES)
        started = np.isnan(self.wear_from) & (ts >= self._wear_onset)
        self.wear_from = np.where(started, self.cycles, self.wear_from)
        # Capacity moves by thousandths a day: re-evaluating it every few reports is plenty.
        if self.seq % SOH_EVERY_REPORTS == 0 or started.any():
            self.soh = self._soh(ts)

    def _learn(self, learned: BoolArray, temp: FloatArray, noise: FloatArray) -> FloatArray:
        """The gauge's full-charge capacity, re-learned at the end of each full charge."""
        p = self._p
        measured = self.soh * (1.0 + p["fcc_temp_coeff"] * (temp - 25.0))
        measured = np.round(p["design_mah"] * measured * (1.0 + p["fcc_noise"] * noise))
        return np.where(learned, measured, self.fcc_mah)

    def cycle_count(self) -> npt.NDArray[np.int64]:
        """The gauge's cycle counter: one per 90 % of design capacity discharged."""
        return np.floor(self.cycles / CYCLE_THRESHOLD + 1e-9).astype(np.int64)


def normal_loss(p: Any, cycles: FloatArray, calendar_days: FloatArray) -> FloatArray:
    """Capacity lost (fraction of design) to normal ageing; `p` maps parameter names to
    values or per-unit columns: early SEI growth, a linear fade per equivalent full cycle,
    a late knee, and calendar fade with the square root of temperature-weighted days."""
    sei = p["sei_loss"] * (1.0 - np.exp(-cycles / p["sei_cycles"]))
    knee = p["knee_fade_per_cycle"] * _softplus_hinge(cycles, p["knee_cycles"], 40.0)
    calendar = p["calendar_loss_per_sqrt_day"] * np.sqrt(np.maximum(calendar_days, 0.0))
    return np.asarray(sei + p["fade_per_cycle"] * cycles + knee + calendar)


def short_episodes(fault: FaultSpec | None, ts: FloatArray, seed: int) -> BoolArray:
    """Whether an internal short is conducting at each event time, charging aside.

    A severe short (severity >= 0.8) conducts all the time from onset; a milder one
    flickers: 2 + 6 * severity episodes a day of 10-60 min (a dendrite that burns through
    and grows back). Episodes of a local day come from their own generator.
    """
    out = np.zeros(ts.shape, dtype=np.bool_)
    if fault is None or fault.code is not FaultCode.BATTERY_OVERHEAT or ts.size == 0:
        return out
    after = ts >= fault.onset_ts
    if fault.severity >= 0.8:
        return after
    first = math.floor(float(ts.min()) / DAY_S) - 1
    last = math.floor(float(ts.max()) / DAY_S)
    for day in range(first, last + 1):
        rng = np.random.default_rng([seed, _STREAM_SHORT, day % (1 << 32)])
        count = rng.poisson(2.0 + 6.0 * fault.severity)
        starts = day * DAY_S + rng.uniform(0.0, DAY_S, count)
        ends = starts + rng.uniform(10.0, 60.0, count) * 60.0
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            out |= (ts >= s) & (ts < e)
    return out & after
