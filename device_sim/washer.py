"""A simulated front-loading washing machine: laundry habits, wash programs, a spin controller.

A `WasherUnit` runs the loads its household puts in (a few a week, at the household's
usual times). Each program fills, washes, drains, rinses and spins; before every spin the
controller measures the load's imbalance at distribution speed, redistributes and retries
when it is too large, picks a spin speed the imbalance allows, and aborts a spin-up whose
vibration passes its limit. Faults (see `device_sim.washer_faults`) change the suspension,
the drain and the drum bearings. `WasherBank` runs many units in event time: the quiet
background is generated for all units at once with numpy, each wash cycle is worked out
once when it starts, and every report summarises its interval.

`cycle_phase` is sent as a number: 0 idle, 1 fill, 2 wash, 3 rinse, 4 spin (including
distributing the load before a spin and untangling after it), 5 drain.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from device_sim.bank import UnitBank
from device_sim.faults import FaultSpec
from device_sim.household import DAY_S, HOUR_S
from device_sim.sampling import draw_ranges, start_sample
from device_sim.washer_faults import WASHER_FAULTS, bearing_wear, drain_flow, suspension_damping
from domain import Reading

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "METRICS",
    "MODELS",
    "PROGRAMS",
    "WASHER_FAULTS",
    "LaundryHabits",
    "Load",
    "Phase",
    "Program",
    "WasherBank",
    "WasherParams",
    "WasherUnit",
]

METRICS = (
    "drum_rpm",
    "vibration_g",
    "motor_current_a",
    "water_level_l",
    "drain_pump_on",
    "cycle_phase",
)


class Phase(IntEnum):
    """`cycle_phase` as sent on the wire."""

    IDLE = 0
    FILL = 1
    WASH = 2
    RINSE = 3
    SPIN = 4
    DRAIN = 5


# Independent random streams per unit (the second word of the generator's seed).
_STREAM_LOADS = 11
_STREAM_CYCLE = 12
_STREAM_IDLE = 13

# What the drum is doing in a segment of a cycle.
_STILL, _TUMBLE, _SPIN = 0, 1, 2

_EMPTY_L = 0.5  # the level sensor's "empty": the drain is done below this
_SUMP_L = 0.3  # what the level reads with the pump running on an empty sump
_SPEED_LADDER = (1400.0, 1200.0, 1000.0, 800.0, 600.0, 400.0)
_WATER_HELD_PER_KG = 2.0  # litres a kilogram of laundry soaks up
_FOAM_CHANCE = 0.03  # a drain slowed by suds or a kinked hose, now and then
_LOAD_SHIFT_CHANCE = 0.04  # the load slips during a spin-up and the controller aborts
_MAX_DELAY_S = 12 * HOUR_S  # a load waiting longer than this is given up


@dataclass(frozen=True, slots=True)
class WasherParams:
    """The build and installation of one unit (kg, L, L/min, rpm, rpm/s, A, g, s)."""

    model: str = "WM-700"
    capacity_kg: float = 7.0
    max_rpm: float = 1200.0
    # Water: mains pressure sets the fill, the pump and the hose height the drain.
    fill_lpm: float = 11.0
    drain_lpm: float = 21.0
    drain_timeout_s: float = 540.0  # sump not empty by then: stop with a drain error
    water_base_l: float = 6.0
    water_per_kg: float = 1.25
    max_level_l: float = 18.0
    # Drum drive.
    tumble_rpm: float = 50.0
    tumble_duty: float = 0.8  # the drum reverses and pauses while it tumbles
    distribute_rpm: float = 93.0  # laundry just sticks to the drum: imbalance is measured here
    ramp_rpm_s: float = 15.0
    brake_rpm_s: float = 25.0
    # Spin controller.
    imbalance_limit_kg: float = 0.8  # the most it takes past resonance
    ramp_limit_g: float = 1.6  # cabinet vibration that aborts a spin-up
    spin_limit_g: float = 0.4  # vibration allowed at speed: sets the speed it picks
    max_attempts: int = 6
    # Suspension, cabinet and floor.
    resonance_rpm: float = 200.0
    damping_ratio: float = 0.13
    vib_gain_g: float = 15.0  # cabinet g per kg of imbalance at 1000 rpm, before isolation
    knock_excursion: float = 3.0  # tub swing (kg of imbalance / 2ζ) that hits the cabinet
    vib_floor_g: float = 0.012  # footsteps, doors, the house
    # Motor current.
    tumble_a: float = 0.62
    tumble_a_per_kg: float = 0.042  # per kg of wet laundry lifted
    spin_a: float = 0.7
    spin_a_per_krpm2: float = 0.9  # windage and friction
    spin_a_per_kg: float = 0.03  # per kg of wet laundry per 1000 rpm
    ramp_a_per_kg: float = 0.05  # per kg of wet laundry, speeding up at the ramp rate
    # At full bearing wear.
    bearing_current: float = 0.5  # relative extra current at 1000 rpm and above
    bearing_g: float = 0.6  # extra rumble at 1000 rpm
    # Measurement.
    current_noise: float = 0.02
    vib_noise: float = 0.12

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Per model: fixed facts, then ranges each unit draws from uniformly.
_MODEL_FACTS: dict[str, dict[str, Any]] = {
    # 7 kg, 1200 rpm, belt-driven universal motor.
    "WM-700": {"capacity_kg": 7.0, "max_rpm": 1200.0, "max_attempts": 6, "max_level_l": 18.0},
    # 9 kg, 1400 rpm, direct-drive inverter motor.
    "WM-900": {"capacity_kg": 9.0, "max_rpm": 1400.0, "max_attempts": 8, "max_level_l": 22.0},
}
_MODELS: dict[str, dict[str, tuple[float, float]]] = {
    "WM-700": {
        "drain_lpm": (17.0, 25.0),
        "water_base_l": (5.0, 7.0),
        "water_per_kg": (1.1, 1.4),
        "ramp_rpm_s": (12.0, 18.0),
        "resonance_rpm": (180.0, 230.0),
        "damping_ratio": (0.11, 0.15),
        "vib_gain_g": (11.0, 14.0),
        "tumble_a": (0.55, 0.70),
        "tumble_a_per_kg": (0.035, 0.05),
        "spin_a": (0.6, 0.8),
        "spin_a_per_krpm2": (0.8, 1.0),
    },
    "WM-900": {
        "drain_lpm": (20.0, 28.0),
        "water_base_l": (6.0, 8.0),
        "water_per_kg": (1.0, 1.3),
        "ramp_rpm_s": (15.0, 22.0),
        "resonance_rpm": (160.0, 210.0),
        "damping_ratio": (0.12, 0.17),
        "vib_gain_g": (9.0, 12.0),
        "tumble_a": (0.35, 0.45),
        "tumble_a_per_kg": (0.025, 0.035),
        "spin_a": (0.35, 0.45),
        "spin_a_per_krpm2": (0.45, 0.55),
    },
}
MODELS: tuple[str, ...] = tuple(_MODELS)


@dataclass(frozen=True, slots=True)
class Program:
    """A wash program as the controller runs it (minutes, rpm, kg)."""

    name: str
    wash_min: tuple[float, float]
    rinses: int
    rinse_min: tuple[float, float]
    spin_cap_rpm: float  # the final spin is at most this (and the household's choice)
    plateau_min: tuple[float, float]  # time at full speed
    interim_rpm: float  # the short spins after the wash and between rinses
    load_share: float  # of the household's usual load
    imbalance_kg: float  # median imbalance left after distributing the load


PROGRAMS: tuple[Program, ...] = (
    Program("cotton", (50.0, 80.0), 3, (5.0, 8.0), 1400.0, (5.0, 8.0), 700.0, 1.0, 0.15),
    Program("mixed", (30.0, 45.0), 2, (4.0, 6.0), 1200.0, (4.0, 6.0), 600.0, 0.8, 0.15),
    Program("quick", (12.0, 18.0), 1, (4.0, 5.0), 1000.0, (3.0, 4.0), 600.0, 0.5, 0.17),
    Program("delicates", (20.0, 30.0), 2, (4.0, 6.0), 800.0, (2.0, 3.0), 400.0, 0.4, 0.14),
    # Bedding and towels: bulky, often one heavy item, the loads that will not balance.
    Program("bulky", (40.0, 60.0), 3, (6.0, 8.0), 1000.0, (4.0, 6.0), 600.0, 0.9, 0.55),
)


@dataclass(frozen=True, slots=True)
class Load:
    """One load a household puts in; `key` (local day, number that day) seeds its cycle."""

    planned_ts: float
    program: Program
    load_kg: float
    spin_rpm: float
    key: tuple[int, int]


@dataclass(frozen=True, slots=True)
class LaundryHabits:
    """When a household does its laundry, and what it washes."""

    # Chance of a laundry session on each day of the week, Monday first: most households
    # keep to a routine (Saturday morning, Wednesday evening) and skip or add a day now
    # and then.
    day_chance: tuple[float, ...] = (0.05, 0.05, 0.85, 0.05, 0.05, 0.85, 0.3)
    weekday_hour: float = 19.5  # after work, or before it
    weekend_hour: float = 10.0
    batch: float = 0.3  # chance a session runs two or three loads back to back
    load_share: float = 0.7  # the usual load, of capacity
    program_weights: tuple[float, ...] = (0.4, 0.3, 0.15, 0.08, 0.07)  # as PROGRAMS
    spin_rpm: float = 1200.0  # the final spin they choose (capped by program and model)
    utc_offset_s: float = 8 * HOUR_S

    @property
    def loads_per_week(self) -> float:
        """The expected number of loads a week."""
        return sum(self.day_chance) * (1.0 + self.batch * 1.5)

    def loads(self, day: int, seed: int, capacity_kg: float) -> list[Load]:
        """The loads planned for local `day` (days since the epoch), by planned time."""
        rng = np.random.default_rng([seed, _STREAM_LOADS, day % (1 << 32)])
        weekday = (day + 3) % 7  # Monday 0; 1970-01-01 was a Thursday
        weekend = weekday >= 5
        midnight = day * DAY_S - self.utc_offset_s
        weights = np.asarray(self.program_weights, dtype=np.float64)
        weights = weights / weights.sum()
        out: list[Load] = []
        sessions = int(rng.random() < self.day_chance[weekday]) + int(rng.random() < 0.03)
        for _ in range(sessions):
            if weekend:
                hour = float(np.clip(rng.normal(self.weekend_hour, 1.5), 7.5, 20.0))
            else:
                hour = float(np.clip(rng.normal(self.weekday_hour, 0.75), 6.0, 22.0))
            count = 1 + (int(rng.integers(1, 3)) if rng.random() < self.batch else 0)
            for _ in range(count):
                program = PROGRAMS[int(rng.choice(len(PROGRAMS), p=weights))]
                typical = capacity_kg * self.load_share * program.load_share
                kg = float(np.clip(typical * rng.lognormal(0.0, 0.25), 1.0, capacity_kg))
                spin = min(self.spin_rpm, program.spin_cap_rpm)
                out.append(Load(midnight + hour * HOUR_S, program, kg, spin, (day, len(out))))
        out.sort(key=lambda load: load.planned_ts)
        return out


@dataclass(frozen=True, slots=True)
class WasherUnit:
    """One installed washer: its build, its household's habits, and any fault."""

    device_id: str
    params: WasherParams = field(default_factory=WasherParams)
    habits: LaundryHabits = field(default_factory=LaundryHabits)
    seed: int = 0
    fault: FaultSpec | None = None

    @classmethod
    def sample(
        cls,
        device_id: str,
        seed: int,
        *,
        model: str | None = None,
        fault: FaultSpec | None = None,
    ) -> WasherUnit:
        """A unit with realistic per-unit variation drawn deterministically from `seed`."""
        rng, model = start_sample(
            kind="washer", seed=seed, model=model, models=MODELS, fault=fault, faults=WASHER_FAULTS
        )
        drawn = draw_ranges(rng, _MODELS[model])
        values: dict[str, Any] = {**_MODEL_FACTS[model], **drawn}
        # A wooden floor passes more of the shaking on than a concrete one.
        values["vib_gain_g"] *= float(rng.uniform(0.9, 1.25))
        params = WasherParams(
            model=model,
            fill_lpm=float(rng.uniform(7.0, 15.0)),  # the home's mains pressure
            drain_timeout_s=float(rng.choice([480.0, 540.0, 600.0])),  # firmware version
            vib_floor_g=float(rng.uniform(0.008, 0.018)),
            knock_excursion=float(rng.uniform(2.7, 3.3)),
            ramp_limit_g=float(rng.uniform(1.4, 1.8)),
            **values,
        )
        evening = rng.random() < 0.7
        weights = rng.dirichlet([8.0, 6.0, 3.0, 1.5, 1.5])
        # Two to five laundry days a week, weekend days the likeliest.
        days = rng.choice(
            7,
            size=int(rng.integers(2, 6)),
            replace=False,
            p=np.array([1, 1, 1, 1, 1, 2.5, 2.5]) / 10.0,
        )
        chance = np.where(np.isin(np.arange(7), days), rng.uniform(0.7, 0.95, 7), 0.04)
        habits = LaundryHabits(
            day_chance=tuple(float(c) for c in chance),
            weekday_hour=float(rng.uniform(18.5, 21.0) if evening else rng.uniform(6.5, 8.0)),
            weekend_hour=float(rng.uniform(8.5, 12.0)),
            batch=float(rng.uniform(0.1, 0.5)),
            load_share=float(rng.uniform(0.5, 0.85)),
            program_weights=tuple(float(w) for w in weights),
            spin_rpm=float(min(rng.choice([1000.0, 1200.0, 1400.0]), params.max_rpm)),
        )
        return cls(device_id, params, habits, seed, fault)

    def readings(
        self, *, start_ts: float, duration_s: float, interval_s: float = 60.0
    ) -> Iterator[Reading]:
        """This unit's readings on its own (identical to its readings in a bank)."""
        bank = WasherBank([self], start_ts=start_ts, interval_s=interval_s)
        for ts, metrics in bank.ticks(duration_s):
            yield Reading(self.device_id, ts, bank.seq, {k: v[0] for k, v in metrics.items()})


def _transmissibility(r: FloatArray, zeta: float, zeta_built: float) -> FloatArray:
    """Share of a rotating force the suspension passes to the cabinet at frequency ratio `r`.

    The resonance is damped by what is left of the damping (`zeta`); at speed the springs
    and damper mounts pass on as much as they did when new (`zeta_built`).
    """
    two_zr = (2.0 * zeta * r) ** 2
    return np.sqrt((1.0 + (2.0 * zeta_built * r) ** 2) / ((1.0 - r * r) ** 2 + two_zr))


class _Cycle:
    """One load run by the controller, worked out as segments of constant intent.

    Each segment has a duration, a phase, what the drum does (still, tumbling, spinning)
    from one speed to another, the water level from one value to another, the pump, and
    the imbalance in the drum. Faults are read once, at the start of the cycle.
    """

    def __init__(self, unit: WasherUnit, load: Load, start_ts: float, rng: np.random.Generator):
        self.p = unit.params
        self.utc_offset_s = unit.habits.utc_offset_s
        self.load = load
        self.rng = rng
        self.t = start_ts
        self.zeta = self.p.damping_ratio * suspension_damping(unit.fault, start_ts)
        self.flow = drain_flow(unit.fault, start_ts)
        # Worn bearings are noisy: how much they drag and rumble varies from cycle to cycle.
        self.wear = bearing_wear(unit.fault, start_ts) * float(rng.lognormal(0.0, 0.25))
        self.rpm = 0.0
        self.level = 0.0
        self.imbalance = 0.0  # of the load as it lies in the drum now, kg
        self.rows: list[tuple[float, int, int, float, float, float, float, float, int, float]] = []

    # -- segments ---------------------------------------------------------------------
    def _add(
        self,
        seconds: float,
        phase: Phase,
        kind: int,
        rpm: float,
        *,
        duty: float = 1.0,
        level: float | None = None,
        pump: bool = False,
        imbalance: float = 0.0,
    ) -> None:
        start_rpm = self.rpm if kind == _SPIN else rpm
        end_level = self.level if level is None else level
        self.rows.append(
            (
                max(seconds, 1.0),
                int(phase),
                kind,
                start_rpm,
                rpm,
                duty,
                self.level,
                end_level,
                int(pump),
                imbalance,
            )
        )
        self.rpm = rpm
        self.level = end_level
        self.t += seconds

    def _speed(self, rpm: float) -> None:
        """Speed the drum up or brake it to `rpm` (spin phase, pump running)."""
        rate = self.p.ramp_rpm_s if rpm > self.rpm else self.p.brake_rpm_s
        if abs(rpm - self.rpm) > 0.5:
            self._add(
                abs(rpm - self.rpm) / rate,
                Phase.SPIN,
                _SPIN,
                rpm,
                imbalance=self.imbalance,
                pump=True,
                level=_SUMP_L if self.level < _EMPTY_L else None,
            )

    def _tumble(self, phase: Phase, seconds: float, *, duty: float | None = None) -> None:
        self._add(
            seconds,
            phase,
            _TUMBLE,
            self.p.tumble_rpm,
            duty=self.p.tumble_duty if duty is None else duty,
        )

    def _fill(self, target_l: float, soaked_l: float) -> None:
        litres = max(target_l - self.level, 0.0) + soaked_l
        # The drum turns now and then so the laundry soaks up the water as it comes in.
        self._add(
            litres / self.p.fill_lpm * 60.0,
            Phase.FILL,
            _TUMBLE,
            self.p.tumble_rpm,
            duty=0.4,
            level=target_l,
        )

    # -- program ----------------------------------------------------------------------
    def run(self) -> _Cycle:
        p, rng, prog, kg = self.p, self.rng, self.load.program, self.load.load_kg
        level = min(p.water_base_l + p.water_per_kg * kg, p.max_level_l)
        self._fill(level * rng.uniform(0.95, 1.05), _WATER_HELD_PER_KG * kg * 0.8)
        self._tumble(Phase.WASH, rng.uniform(*prog.wash_min) * 60.0)
        if not self._drain():
            return self
        self._spin(prog.interim_rpm, rng.uniform(40.0, 70.0), attempts=3)
        for rinse in range(prog.rinses):
            self._fill(
                min(level * 1.1, p.max_level_l) * rng.uniform(0.95, 1.05),
                _WATER_HELD_PER_KG * kg * 0.2,
            )
            self._tumble(Phase.RINSE, rng.uniform(*prog.rinse_min) * 60.0)
            if not self._drain():
                return self
            if rinse < prog.rinses - 1:
                self._spin(prog.interim_rpm, rng.uniform(40.0, 70.0), attempts=3)
        self._spin(
            min(self.load.spin_rpm, p.max_rpm),
            rng.uniform(*prog.plateau_min) * 60.0,
            attempts=p.max_attempts,
        )
        # Untangle the laundry so it comes out loose, and pump the sump dry.
        self._tumble(Phase.SPIN, rng.uniform(30.0, 60.0), duty=0.5)
        self._add(5.0, Phase.SPIN, _STILL, 0.0, level=0.0)
        return self

    def _drain(self) -> bool:
        """Pump the water out; False when the sump never empties and the cycle stops."""
        p, rng = self.p, self.rng
        rate = p.drain_lpm / 60.0 * self.flow * rng.lognormal(0.0, 0.08)
        if rng.random() < _FOAM_CHANCE:
            rate *= rng.uniform(0.5, 0.8)
        to_empty = max(self.level - _EMPTY_L, 0.0) / rate
        if to_empty <= p.drain_timeout_s:
            self._add(
                to_empty, Phase.DRAIN, _TUMBLE, p.tumble_rpm, duty=0.3, level=_SUMP_L, pump=True
            )
            self._add(
                rng.uniform(15.0, 30.0), Phase.DRAIN, _TUMBLE, p.tumble_rpm, duty=0.3, pump=True
            )
            return True
        left = self.level - rate * p.drain_timeout_s
        self._add(
            p.drain_timeout_s, Phase.DRAIN, _TUMBLE, p.tumble_rpm, duty=0.3, level=left, pump=True
        )
        self._stall(rate)
        return False

    def _stall(self, rate: float) -> None:
        """Drain error: the machine stops with the water in it until someone comes."""
        p, rng = self.p, self.rng
        hour = ((self.t + self.utc_offset_s) % DAY_S) / HOUR_S
        if 7.0 <= hour < 22.0:
            wait = rng.uniform(0.3, 2.5) * HOUR_S
        else:  # noticed in the morning
            wait = ((rng.uniform(7.0, 9.0) - hour) % 24.0) * HOUR_S
        self._add(wait, Phase.DRAIN, _STILL, 0.0)
        # They try the drain program: the pump runs its time out again.
        to_empty = max(self.level - _EMPTY_L, 0.0) / rate
        if to_empty <= p.drain_timeout_s:
            self._add(to_empty, Phase.DRAIN, _STILL, 0.0, level=0.0, pump=True)
            return
        self._add(
            p.drain_timeout_s,
            Phase.DRAIN,
            _STILL,
            0.0,
            pump=True,
            level=self.level - rate * p.drain_timeout_s,
        )
        # Then they switch it off and empty it through the emergency hose into a tray.
        self._add(self.level / rng.uniform(2.0, 4.0) * 60.0, Phase.IDLE, _STILL, 0.0, level=0.0)

    def _vibration(self, imbalance: float, rpm: float) -> float:
        r = np.asarray([rpm / self.p.resonance_rpm])
        isolation = float(_transmissibility(r, self.zeta, self.p.damping_ratio)[0])
        return self.p.vib_gain_g * imbalance * (rpm / 1000.0) ** 2 * isolation

    def _spin(self, target: float, plateau_s: float, *, attempts: int) -> bool:
        """Distribute, check the imbalance, spin up and hold; redistribute and retry on failure."""
        p, rng, prog = self.p, self.rng, self.load.program
        ladder = [target] + [r for r in _SPEED_LADDER if r < target]
        for attempt in range(attempts):
            if attempt:
                self._speed(0.0)
                self._tumble(Phase.SPIN, rng.uniform(20.0, 40.0))  # shake the load loose
            imbalance = prog.imbalance_kg * float(rng.lognormal(0.0, 0.5))
            self.imbalance = imbalance
            self._speed(p.distribute_rpm)
            self._add(
                rng.uniform(15.0, 30.0),
                Phase.SPIN,
                _SPIN,
                p.distribute_rpm,
                imbalance=imbalance,
                pump=True,
            )
            if imbalance * rng.lognormal(0.0, 0.1) > p.imbalance_limit_kg:
                continue
            speed = next(
                (r for r in ladder if self._vibration(imbalance, r) <= p.spin_limit_g), None
            )
            if speed is None:
                continue
            if self._vibration(imbalance, p.resonance_rpm) > p.ramp_limit_g:
                # The tub swings too hard through resonance: abort just past it.
                self._speed(min(speed, p.resonance_rpm * 1.3))
                continue
            if speed > 500.0 and rng.random() < _LOAD_SHIFT_CHANCE:
                at = rng.uniform(400.0, speed)
                shifted = imbalance * rng.uniform(2.0, 3.0)
                if self._vibration(shifted, at) > p.spin_limit_g:
                    self._speed(at)
                    self.imbalance = shifted
                    self._add(3.0, Phase.SPIN, _SPIN, at, imbalance=shifted, pump=True)
                    continue
            self._speed(speed)
            self._add(plateau_s, Phase.SPIN, _SPIN, speed, imbalance=imbalance, pump=True)
            self._speed(0.0)
            return True
        self._speed(0.0)
        return False

    # -- rendering --------------------------------------------------------------------
    def render(self, dt: float) -> dict[str, FloatArray]:
        """The cycle sampled every `dt` seconds: each substep's mean speed and current, peak
        vibration, level and phase at its end, and whether the pump ran."""
        p, rng = self.p, self.rng
        rows = np.asarray(self.rows, dtype=np.float64)
        dur, phase, kind, rpm0, rpm1, duty, lvl0, lvl1, pump, imb = rows.T
        n = np.maximum(1, np.rint(dur / dt)).astype(np.int64)
        seg = np.repeat(np.arange(n.size), n)
        total = int(n.sum())
        pos = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
        f0, f1 = pos / n[seg], (pos + 1) / n[seg]
        a = rpm0[seg] + (rpm1 - rpm0)[seg] * f0
        b = rpm0[seg] + (rpm1 - rpm0)[seg] * f1
        k, d, u = kind[seg], duty[seg], imb[seg]
        spin, tumble = k == _SPIN, k == _TUMBLE
        noise = rng.standard_normal((6, total))
        rpm = np.where(tumble, b * d, np.where(spin, (a + b) / 2, 0.0))
        # Tumbling reverses and pauses on the controller's pattern: its mean speed wanders.
        rpm = np.maximum(rpm * (1.0 + np.where(tumble, 0.08, 0.004) * noise[0]), 0.0)
        kg = self.load.load_kg
        wet = kg * (1.0 + _WATER_HELD_PER_KG)

        # Vibration: the imbalance's force through the suspension, peaking at resonance;
        # a tub that swings too far knocks the cabinet; worn bearings rumble at speed.
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        peak_rpm = np.clip(p.resonance_rpm, lo, hi)

        def cabinet(r: FloatArray) -> FloatArray:
            iso = _transmissibility(r / p.resonance_rpm, self.zeta, p.damping_ratio)
            return p.vib_gain_g * u * (r / 1000.0) ** 2 * iso

        v_spin = np.maximum(np.maximum(cabinet(lo), cabinet(hi)), cabinet(peak_rpm))
        swing = u / (2.0 * self.zeta)
        crossing = (lo <= p.resonance_rpm * 1.15) & (hi >= p.resonance_rpm * 0.85)
        knock = np.where(
            spin & crossing & (swing > p.knock_excursion),
            np.minimum(1.5, 0.5 * (swing - p.knock_excursion)) * np.exp(0.3 * noise[1]),
            0.0,
        )
        v_tumble = (0.02 + 0.008 * math.sqrt(wet)) * np.exp(0.3 * noise[1]) * (d > 0)
        v_bearing = self.wear * p.bearing_g * (hi / 1000.0) ** 2 * np.exp(0.35 * noise[2])
        vib = np.where(spin, v_spin + knock, np.where(tumble, v_tumble, 0.0)) + v_bearing
        vib *= np.exp(p.vib_noise * noise[3])

        # Motor current: lifting wet laundry when tumbling; windage, friction and the
        # water still in the laundry when spinning, plus speeding it up.
        krpm = rpm / 1000.0
        wet_spin = kg * (0.6 + 1.4 * np.clip(1.0 - rpm / 800.0, 0.0, 1.0))
        accel = np.maximum(b - a, 0.0) / dt
        i_spin = (
            p.spin_a
            + p.spin_a_per_krpm2 * krpm**2
            + p.spin_a_per_kg * wet_spin * krpm
            + p.ramp_a_per_kg * wet_spin * accel / p.ramp_rpm_s
        ) * (1.0 + p.bearing_current * self.wear * np.minimum(krpm, 1.0))
        i_tumble = d * (p.tumble_a + p.tumble_a_per_kg * wet) * (1.0 + 0.15 * self.wear)
        current = np.where(spin, i_spin, np.where(tumble, i_tumble, 0.0))
        current *= 1.0 + np.where(tumble, 4.0, 1.0) * p.current_noise * noise[4]

        level = lvl0[seg] + (lvl1 - lvl0)[seg] * f1
        level += np.where(tumble & (level > 1.0), 0.25 * noise[5], 0.0)  # sloshing
        return {
            "rpm": rpm,
            "vib": vib,
            "current": np.maximum(current, 0.0),
            "level": np.maximum(level, 0.0),
            "pump": pump[seg],
            "phase": phase[seg],
        }


@dataclass(frozen=True, slots=True)
class _Reports:
    """A rendered cycle summarised per report, from bank report index `first` on."""

    first: int
    values: dict[str, FloatArray]

    @property
    def end(self) -> int:
        return self.first + self.values["rpm"].size


def _summarise(sub: dict[str, FloatArray], offset: int, m: int) -> dict[str, FloatArray]:
    """Substeps (the first at `offset` into a report of `m`) to per-report summaries."""
    total = offset + sub["rpm"].size
    pad = (-total) % m
    out = {}
    for name, values in sub.items():
        full = np.concatenate((np.zeros(offset), values, np.zeros(pad))).reshape(-1, m)
        if name in ("rpm", "current"):
            out[name] = full.mean(axis=1)
        elif name in ("vib", "pump"):
            out[name] = full.max(axis=1)
        else:  # level and phase: the value at the report
            out[name] = full[:, -1]
    return out


def _hash_uniform(keys: npt.NDArray[np.uint64]) -> FloatArray:
    """Uniform [0, 1) numbers from integer keys (splitmix64): random access by key."""
    z = keys + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


class WasherBank(UnitBank[WasherUnit]):
    """Runs a set of units together in event time.

    The quiet between cycles (vibration from the house around the machine) is generated
    for all units at once, keyed by unit and report slot; a cycle is worked out whole when
    it starts, sampled every `max_step_s` or less, and summarised per report: `drum_rpm`
    and `motor_current_a` are the interval's means, `vibration_g` its peak, `drain_pump_on`
    whether the pump ran, `water_level_l` and `cycle_phase` the values at the report.
    """

    def __init__(
        self,
        units: Sequence[WasherUnit],
        *,
        start_ts: float,
        interval_s: float = 60.0,
        max_step_s: float = 5.0,
        max_chunk_values: int = 1 << 21,
    ) -> None:
        super().__init__(units, start_ts=start_ts, interval_s=interval_s, max_step_s=max_step_s)
        n = len(self.units)
        self._per_chunk = max(1, min(int(DAY_S // self.interval_s), max_chunk_values // max(n, 1)))
        self._keys = np.array(
            [(u.seed * 0x2545F4914F6CDD1D + _STREAM_IDLE) % (1 << 64) for u in self.units],
            dtype=np.uint64,
        )
        self._floor = np.array([u.params.vib_floor_g for u in self.units], dtype=np.float64)
        self._slot0 = math.floor(self.start_ts / self.interval_s)
        self._next_day = [
            math.floor((self.start_ts + u.habits.utc_offset_s) / DAY_S) for u in self.units
        ]
        self._queue: list[list[Load]] = [[] for _ in self.units]
        self._free_at = [-math.inf] * n
        self._cycles: list[list[_Reports]] = [[] for _ in self.units]

    def ticks(self, duration_s: float) -> Iterator[tuple[float, dict[str, list[Any]]]]:
        """Yield `(ts, metrics)` per report, each metric a list with one value per unit."""
        reports = int(duration_s // self.interval_s + 1e-9)
        done = 0
        while done < reports:
            count = min(self._per_chunk, reports - done)
            yield from self._chunk(self.seq, count)
            done += count

    def _chunk(self, first: int, count: int) -> Iterator[tuple[float, dict[str, list[Any]]]]:
        n, end = len(self.units), first + count
        end_ts = self.start_ts + end * self.interval_s
        slots = (self._slot0 + first + np.arange(count)).astype(np.uint64)
        keys = self._keys[None, :] * np.uint64(0x100000001B3) + slots[:, None]
        u1 = _hash_uniform(keys)
        u2 = _hash_uniform(keys ^ np.uint64(0x5851F42D4C957F2D))
        # The house: footsteps and doors, and now and then someone leaning on the machine.
        vib = self._floor * (0.6 + 0.8 * u1) + np.where(u2 < 0.004, 0.04 + 0.12 * u1, 0.0)
        out = {
            "rpm": np.zeros((count, n)),
            "vib": vib,
            "current": np.zeros((count, n)),
            "level": np.zeros((count, n)),
            "pump": np.zeros((count, n)),
            "phase": np.zeros((count, n)),
        }
        for i in range(n):
            self._cycles[i] = [cyc for cyc in self._cycles[i] if cyc.end > first]
            self._schedule(i, end_ts)
            for cyc in self._cycles[i]:
                lo, hi = max(first, cyc.first), min(end, cyc.end)
                if lo >= hi:
                    continue
                rows = slice(lo - first, hi - first)
                part = slice(lo - cyc.first, hi - cyc.first)
                for name, values in cyc.values.items():
                    if name == "vib":
                        out[name][rows, i] = np.maximum(out[name][rows, i], values[part])
                    else:
                        out[name][rows, i] = values[part]
        rpm = np.rint(out["rpm"]).astype(np.int64).tolist()
        vibration = np.round(out["vib"], 2).tolist()
        current = np.round(out["current"], 2).tolist()
        level = np.round(out["level"], 1).tolist()
        pump = (out["pump"] > 0).astype(np.int64).tolist()
        phase = out["phase"].astype(np.int64).tolist()
        for r in range(count):
            self.seq += 1
            yield (
                round(self.start_ts + self.seq * self.interval_s, 3),
                {
                    "drum_rpm": rpm[r],
                    "vibration_g": vibration[r],
                    "motor_current_a": current[r],
                    "water_level_l": level[r],
                    "drain_pump_on": pump[r],
                    "cycle_phase": phase[r],
                },
            )

    def _schedule(self, i: int, end_ts: float) -> None:
        """Work out unit `i`'s cycles that start before `end_ts`, in order."""
        unit = self.units[i]
        habits, queue = unit.habits, self._queue[i]
        while (self._next_day[i] * DAY_S - habits.utc_offset_s) < end_ts:
            planned = habits.loads(self._next_day[i], unit.seed, unit.params.capacity_kg)
            queue.extend(load for load in planned if load.planned_ts >= self.start_ts)
            self._next_day[i] += 1
        while queue:
            load = queue[0]
            rng = np.random.default_rng([unit.seed, _STREAM_CYCLE, *load.key])
            # Back-to-back loads: unload, reload, press start.
            begin = max(load.planned_ts, self._free_at[i] + rng.uniform(5.0, 25.0) * 60.0)
            if begin >= end_ts:
                return
            queue.pop(0)
            if begin - load.planned_ts > _MAX_DELAY_S:
                continue
            step = math.ceil((begin - self.start_ts) / self.dt)
            cycle = _Cycle(unit, load, self.start_ts + step * self.dt, rng).run()
            sub = cycle.render(self.dt)
            first, offset = divmod(step, self.substeps)
            self._cycles[i].append(_Reports(first, _summarise(sub, offset, self.substeps)))
            self._free_at[i] = self.start_ts + (step + sub["rpm"].size) * self.dt
