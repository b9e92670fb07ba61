"""A simulated fridge-freezer: per-unit thermal physics, thermostat, defrost and doors.

Each `FridgeUnit` is a lumped thermal model of four nodes (cabinet air, cabinet contents,
freezer air, freezer contents) cooled by one compressor whose evaporator serves both
compartments. A thermostat on the cabinet sensor switches the compressor with hysteresis
and a minimum off-time; a timer runs defrost cycles; the household opens the door and
puts warm groceries in; a failed door seal lets kitchen air in. `FridgeBank` steps many
units at once with numpy, in event time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from device_sim.bank import UnitBank
from device_sim.faults import (
    FRIDGE_FAULTS,
    SEAL_AJAR_LOOKBACK_S,
    SEAL_AJAR_OPEN_SHARE,
    FaultSpec,
    capacity_fraction,
    compressor_ok,
    seal_ajar_spans,
    seal_leak_ua,
)
from device_sim.household import DAY_S, HOUR_S, DoorEvents, Household, Kitchen
from device_sim.sampling import draw_ranges, start_sample
from domain import FaultCode, Reading

FloatArray = npt.NDArray[np.float64]

METRICS = (
    "cabinet_temp_c",
    "freezer_temp_c",
    "setpoint_c",
    "compressor_on",
    "door_open",
    "power_w",
)

_STREAM_NOISE = 3
_STREAM_PHASE = 4


@dataclass(frozen=True, slots=True)
class FridgeParams:
    """The physical constants of one unit (SI units: W, J/K, W/K, s, °C)."""

    model: str = "FR-300"
    setpoint_c: float = 4.0
    band_c: float = 1.0  # thermostat: on at setpoint + band, off at setpoint - band
    min_off_s: float = 360.0  # compressor protection: no restart sooner than this
    # Heat paths.
    ua_cabinet: float = 0.8  # cabinet walls and gasket to the kitchen
    ua_freezer: float = 0.5
    ua_divider: float = 0.2  # cabinet to freezer through the divider wall
    ua_cabinet_air_load: float = 3.0  # cabinet air to its contents
    ua_freezer_air_load: float = 12.0  # freezer air (fan-forced) to frozen food
    ua_door: float = 10.0  # extra exchange with the kitchen while the door is open
    # Heat capacities.
    c_cabinet_air: float = 12e3  # air, shelves and liner
    c_cabinet_load: float = 50e3  # food and drink
    c_freezer_air: float = 12e3  # air, evaporator and liner
    c_freezer_load: float = 40e3
    # Refrigeration.
    capacity_w: float = 140.0  # heat the evaporator removes while running, at 25 °C
    cabinet_share: float = 0.3  # of that, the share the damper sends to the cabinet...
    damper_gain: float = 0.01  # ...less per kelvin the frozen food is above its target
    freezer_target_c: float = -18.0
    # The colder the evaporator runs, the less gas the compressor moves: below the knee
    # (freezer air, which the evaporator sits in) capacity falls, to nothing at the floor.
    # Normal cycling never gets there; a compressor kept running by an extra cabinet load
    # (a leaking door seal) does, and the freezer levels off instead of plunging.
    evaporator_knee_c: float = -28.0
    evaporator_floor_c: float = -40.0
    compressor_w: float = 95.0
    idle_w: float = 7.0  # controller, display, sensors
    light_w: float = 4.0
    # Defrost.
    heater_w: float = 280.0
    heater_air_share: float = 0.45  # the rest melts frost and drains away
    defrost_interval_s: float = 10 * HOUR_S
    defrost_duration_s: float = 30 * 60.0  # heater on, then drip time
    drip_s: float = 5 * 60.0
    # Door air: time constants of warm air mixing in and being cooled out again.
    mix_in_s: float = 400.0
    mix_out_s: float = 240.0
    # Measurement.
    temp_noise_c: float = 0.05
    power_noise: float = 0.015  # relative

    def as_dict(self) -> dict[str, float | str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_MODELS: dict[str, dict[str, tuple[float, float]]] = {
    # Ranges per model; each unit draws uniformly from them.
    "FR-300": {
        "ua_cabinet": (0.65, 0.85),
        "ua_freezer": (0.40, 0.52),
        "c_cabinet_air": (9e3, 12e3),
        "c_cabinet_load": (35e3, 60e3),
        "c_freezer_air": (9e3, 11e3),
        "c_freezer_load": (25e3, 45e3),
        "capacity_w": (115.0, 135.0),
        "compressor_w": (80.0, 95.0),
        "heater_w": (200.0, 280.0),
        "idle_w": (5.0, 8.0),
    },
    "FR-500": {
        "ua_cabinet": (0.85, 1.10),
        "ua_freezer": (0.55, 0.70),
        "c_cabinet_air": (13e3, 17e3),
        "c_cabinet_load": (55e3, 95e3),
        "c_freezer_air": (12e3, 15e3),
        "c_freezer_load": (40e3, 70e3),
        "capacity_w": (150.0, 185.0),
        "compressor_w": (105.0, 150.0),
        "heater_w": (280.0, 400.0),
        "idle_w": (6.0, 10.0),
    },
}
MODELS: tuple[str, ...] = tuple(_MODELS)


@dataclass(frozen=True, slots=True)
class FridgeUnit:
    """One installed fridge: its physics, its kitchen and household, and any fault."""

    device_id: str
    params: FridgeParams = field(default_factory=FridgeParams)
    kitchen: Kitchen = field(default_factory=Kitchen)
    household: Household = field(default_factory=Household)
    seed: int = 0
    fault: FaultSpec | None = None

    @classmethod
    def sample(
        cls,
        device_id: str,
        seed: int,
        *,
        model: str | None = None,
        warm_kitchen: bool | None = None,
        fault: FaultSpec | None = None,
    ) -> FridgeUnit:
        """A unit with realistic per-unit variation drawn deterministically from `seed`."""
        rng, model = start_sample(
            kind="fridge", seed=seed, model=model, models=MODELS, fault=fault, faults=FRIDGE_FAULTS
        )
        if warm_kitchen is None:
            warm_kitchen = bool(rng.random() < 0.2)
        drawn = draw_ranges(rng, _MODELS[model])
        setpoint = float(rng.choice([3.0, 3.5, 4.0, 4.0, 4.5, 5.0]))
        freezer_target = float(rng.uniform(-20.0, -17.0))
        kitchen = Kitchen(
            base_c=float(rng.uniform(27.5, 29.5) if warm_kitchen else rng.uniform(21.0, 25.5)),
            swing_c=float(rng.uniform(1.5, 2.5) if warm_kitchen else rng.uniform(0.8, 2.0)),
            peak_hour=float(rng.uniform(14.0, 16.5)),
            cooking_c=float(rng.uniform(0.3, 1.8)),
            dinner_hour=float(rng.uniform(17.8, 19.5)),
        )
        household = Household(
            activity=float(rng.uniform(0.5, 1.8)),
            breakfast_hour=float(rng.uniform(6.5, 8.3)),
            lunch_at_home=bool(rng.random() < 0.35),
            dinner_hour=kitchen.dinner_hour,
            shopping_per_week=float(rng.uniform(0.5, 3.0)),
        )
        base = FridgeParams(
            model=model,
            setpoint_c=setpoint,
            band_c=float(rng.uniform(0.8, 1.2)),
            min_off_s=float(rng.choice([300.0, 360.0, 480.0])),
            defrost_interval_s=float(rng.uniform(8.0, 12.0)) * HOUR_S,
            defrost_duration_s=float(rng.uniform(20.0, 40.0)) * 60.0,
            light_w=float(rng.choice([2.5, 4.0, 15.0])),
            **drawn,
        )
        share = _balanced_share(base, kitchen.base_c, freezer_target)
        params = FridgeParams(
            **{**base.as_dict(), "cabinet_share": share, "freezer_target_c": freezer_target}  # type: ignore[arg-type]
        )
        return cls(device_id, params, kitchen, household, seed, fault)

    def readings(
        self, *, start_ts: float, duration_s: float, interval_s: float = 60.0
    ) -> Iterator[Reading]:
        """This unit's readings on its own (identical to its readings in a fleet)."""
        bank = FridgeBank([self], start_ts=start_ts, interval_s=interval_s)
        for ts, metrics in bank.ticks(duration_s):
            yield Reading(self.device_id, ts, bank.seq, {k: v[0] for k, v in metrics.items()})


def _balanced_share(p: FridgeParams, ambient_c: float, freezer_c: float) -> float:
    """The damper share that holds the freezer near `freezer_c` at `ambient_c`, on average."""
    cabinet = p.ua_cabinet * (ambient_c - p.setpoint_c) - p.ua_divider * (p.setpoint_c - freezer_c)
    cabinet += 2.0  # door openings and groceries
    freezer = p.ua_freezer * (ambient_c - freezer_c) + p.ua_divider * (p.setpoint_c - freezer_c)
    freezer += p.heater_w * p.heater_air_share * p.defrost_duration_s / p.defrost_interval_s
    return min(max(cabinet / (cabinet + freezer), 0.15), 0.5)


def _column(units: Sequence[FridgeUnit], name: str) -> FloatArray:
    return np.array([getattr(u.params, name) for u in units], dtype=np.float64)


class FridgeBank(UnitBank[FridgeUnit]):
    """Steps a set of units together in event time, vectorised across units.

    Inputs that do not depend on the state (kitchen temperature, door openings, fault
    shapes, measurement noise) are generated a day at a time; only the state update runs
    per internal step (at most `max_step_s`, a whole number of steps per report).
    """

    def __init__(
        self,
        units: Sequence[FridgeUnit],
        *,
        start_ts: float,
        interval_s: float = 60.0,
        max_step_s: float = 30.0,
    ) -> None:
        super().__init__(units, start_ts=start_ts, interval_s=interval_s, max_step_s=max_step_s)
        p = {f.name: _column(self.units, f.name) for f in fields(FridgeParams) if f.name != "model"}
        self._p = p
        self._noise_rngs = [np.random.default_rng([u.seed, _STREAM_NOISE]) for u in self.units]
        n = len(self.units)
        phase = np.array(
            [np.random.default_rng([u.seed, _STREAM_PHASE]).random(2) for u in self.units]
        ).reshape(n, 2)
        # Start near the operating point, at a random point of the compressor and defrost cycles.
        self.cab_air = p["setpoint_c"] + (phase[:, 0] - 0.5) * 2 * p["band_c"]
        self.cab_load = p["setpoint_c"].copy()
        self.frz_air = p["freezer_target_c"].copy()
        self.frz_load = p["freezer_target_c"].copy()
        self.mix = np.zeros(n)
        self.comp = np.zeros(n, dtype=np.bool_)
        self.off_since = np.full(n, self.start_ts - 3600.0)
        self.next_defrost = self.start_ts + phase[:, 1] * p["defrost_interval_s"]
        self.defrost_end = np.full(n, -np.inf)
        self.heater_end = np.full(n, -np.inf)

    def ticks(self, duration_s: float) -> Iterator[tuple[float, dict[str, list[Any]]]]:
        """Yield `(ts, metrics)` per report, each metric a list with one value per unit."""
        reports = int(duration_s // self.interval_s + 1e-9)
        per_chunk = max(1, int(DAY_S // self.interval_s))
        done = 0
        while done < reports:
            count = min(per_chunk, reports - done)
            yield from self._chunk(done, count)
            done += count

    def _chunk(self, first: int, count: int) -> Iterator[tuple[float, dict[str, list[Any]]]]:
        p, n, m, dt = self._p, len(self.units), self.substeps, self.dt
        t0 = self.start_ts + first * self.interval_s
        steps = count * m
        edges: FloatArray = t0 + dt * np.arange(steps + 1, dtype=np.float64)
        mids: FloatArray = edges[:-1] + dt / 2
        end = float(edges[-1])
        amb = np.empty((steps, n))
        door = np.empty((steps, n))
        pulse = np.zeros((steps, n))
        cap = np.empty((steps, n))
        ok = np.empty((steps, n), dtype=np.bool_)
        leak = np.zeros((steps, n))  # past a failed door seal, W/K
        ajar = np.zeros((steps, n))  # share of the step the door rested ajar
        noise = np.empty((count, n, 3))
        for i, u in enumerate(self.units):
            amb[:, i] = u.kitchen.ambient_c(mids, u.seed)
            events: DoorEvents = u.household.door_events(t0, end, u.seed)
            door[:, i] = events.open_seconds(edges)
            if events.load_ts.size:
                idx = ((events.load_ts - t0) // dt).astype(np.int64)
                np.add.at(pulse[:, i], idx, events.load_j)
            cap[:, i] = capacity_fraction(u.fault, mids)
            ok[:, i] = compressor_ok(u.fault, mids)
            if u.fault is not None and u.fault.code is FaultCode.FRIDGE_DOOR_SEAL_LEAK:
                leak[:, i] = seal_leak_ua(u.fault, mids)
                # Openings shortly before the chunk can leave the door ajar into it.
                back = u.household.door_events(t0 - SEAL_AJAR_LOOKBACK_S, end, u.seed)
                spans = seal_ajar_spans(u.fault, back.starts, back.ends, u.seed)
                none = np.zeros(0)
                ajar[:, i] = DoorEvents(*spans, none, none).open_seconds(edges) / dt
            noise[:, i, :] = self._noise_rngs[i].standard_normal((count, 3))
        # A hot condenser moves less heat for more power; a starved circuit draws less.
        cool = p["capacity_w"] * cap * (1.0 - 0.012 * (amb - 25.0))
        comp_w = p["compressor_w"] * (0.85 + 0.15 * cap) * (1.0 + 0.01 * (amb - 25.0))
        f = door / dt  # share of the step the door stood open
        # A door resting ajar lets in kitchen air like a slightly open one (without the light).
        f_air = f + SEAL_AJAR_OPEN_SHARE * ajar

        # Explicit Euler, with everything that does not depend on the state worked out
        # for the whole chunk at once: per step only the state-dependent terms remain.
        sp, band, min_off = p["setpoint_c"], p["band_c"], p["min_off_s"]
        share0, gain, frz_target = p["cabinet_share"], p["damper_gain"], p["freezer_target_c"]
        evap_floor = p["evaporator_floor_c"]
        evap_span = p["evaporator_knee_c"] - evap_floor
        ua_c, ua_f, ua_div = p["ua_cabinet"], p["ua_freezer"], p["ua_divider"]
        ua_al, ua_fl, ua_door = p["ua_cabinet_air_load"], p["ua_freezer_air_load"], p["ua_door"]
        k_ca, k_cl = dt / p["c_cabinet_air"], dt / p["c_cabinet_load"]
        k_fa, k_fl = dt / p["c_freezer_air"], dt / p["c_freezer_load"]
        # Cabinet air: walls, contents, divider, and the kitchen through an open door.
        # A failed seal adds its leak (sensible and latent heat) to the walls'.
        cab_keep = 1.0 - k_ca * (ua_c + leak + ua_al + ua_div + ua_door * f_air)
        cab_in = k_ca * (ua_c + leak + ua_door * f_air) * amb
        cab_from_load, cab_from_frz = k_ca * ua_al, k_ca * ua_div
        load_from_air = k_cl * ua_al
        load_pulse = pulse / p["c_cabinet_load"]
        frz_keep = 1.0 - k_fa * (ua_f + ua_fl + ua_div)
        frz_in = k_fa * ua_f * amb
        frz_from_load, frz_from_cab = k_fa * ua_fl, k_fa * ua_div
        frz_load_from_air = k_fl * ua_fl
        frz_heat = p["heater_w"] * p["heater_air_share"] * k_fa
        cool_cab, cool_frz = cool * k_ca, cool * k_fa
        # The sensor's excess over the cabinet air: warm air mixing in, then cooled out.
        mix_gain = f_air * (dt / p["mix_in_s"])
        mix_keep = 1.0 - mix_gain - dt / p["mix_out_s"]
        base_power = p["idle_w"] + p["light_w"] * f
        heater_w = p["heater_w"]
        opened_in = np.asarray((door.reshape(count, m, n) > 0).any(axis=1))
        on_hi, off_lo = sp + band, sp - band
        defrost_s, drip_s, defrost_every = (
            p["defrost_duration_s"],
            p["drip_s"],
            p["defrost_interval_s"],
        )
        sd_t, sd_p = p["temp_noise_c"], p["power_noise"]
        setpoints = sp.tolist()

        ta, tl, tfa, tfl, mix = self.cab_air, self.cab_load, self.frz_air, self.frz_load, self.mix
        comp, off_since = self.comp, self.off_since
        next_def, def_end, heat_end = self.next_defrost, self.defrost_end, self.heater_end
        k = 0
        for r in range(count):
            energy = np.zeros(n)
            for _ in range(m):
                t = edges[k]
                # Defrost timer: compressor off, heater on, then a few minutes of drip.
                start = t >= next_def
                if start.any():
                    def_end = np.where(start, t + defrost_s, def_end)
                    heat_end = np.where(start, def_end - drip_s, heat_end)
                    next_def = np.where(start, t + defrost_every, next_def)
                defrosting = t < def_end
                heater = t < heat_end
                # Thermostat with hysteresis on the cabinet sensor, and compressor protection.
                sensor = ta + mix
                want = np.where(comp, sensor > off_lo, sensor >= on_hi)
                run = want & ok[k] & ~defrosting & (comp | (t - off_since >= min_off))
                off_since = np.where(comp & ~run, t, off_since)
                comp = run
                # The damper favours the freezer when its contents run warm.
                share = np.minimum(np.maximum(share0 - gain * (tfl - frz_target), 0.05), 0.6)
                on = comp * 1.0
                lift = np.minimum(np.maximum((tfa - evap_floor) / evap_span, 0.0), 1.0)
                cooling = on * lift
                new_ta = ta * cab_keep[k] + cab_in[k] + cab_from_load * tl + cab_from_frz * tfa
                new_ta -= cooling * cool_cab[k] * share
                new_tfa = tfa * frz_keep + frz_in[k] + frz_from_load * tfl + frz_from_cab * ta
                new_tfa += heater * frz_heat - cooling * cool_frz[k] * (1.0 - share)
                tl = tl + load_from_air * (ta - tl) + load_pulse[k]
                tfl = tfl + frz_load_from_air * (tfa - tfl)
                mix = mix * mix_keep[k] + mix_gain[k] * (amb[k] - ta)
                ta, tfa = new_ta, new_tfa
                energy += base_power[k] + on * comp_w[k] + heater * heater_w
                k += 1
            opened = opened_in[r]
            power = energy / m * (1.0 + sd_p * noise[r, :, 2])
            cabinet = np.round(ta + mix + sd_t * noise[r, :, 0], 1)
            freezer = np.round(tfa + sd_t * noise[r, :, 1], 1)
            self.seq += 1
            yield (
                round(float(edges[k]), 3),
                {
                    "cabinet_temp_c": cabinet.tolist(),
                    "freezer_temp_c": freezer.tolist(),
                    "setpoint_c": setpoints,
                    "compressor_on": comp.astype(np.int64).tolist(),
                    "door_open": opened.astype(np.int64).tolist(),
                    "power_w": np.round(power, 1).tolist(),
                },
            )
        self.cab_air, self.cab_load, self.frz_air, self.frz_load, self.mix = ta, tl, tfa, tfl, mix
        self.comp, self.off_since = comp, off_since
        self.next_defrost, self.defrost_end, self.heater_end = next_def, def_end, heat_end
