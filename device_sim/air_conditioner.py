"""A simulated split air conditioner cooling one room of a Shanghai home, with its faults.

Each `AirConditionerUnit` is a room (air and building mass, envelope, solar gain through a
window, people) cooled by a split unit: a compressor (inverter-driven, or fixed-speed that
cycles), an indoor fan whose airflow falls as the filter loads with dust, and an
evaporator whose supply air lags the compressor by a couple of minutes. The occupants
switch it on when they are in the room and the day is hot (`Occupants`); the weather is
the city's (`Climate`). `AirConditionerBank` steps many units at once with numpy, in
event time, exactly like `FridgeBank`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from device_sim.bank import UnitBank
from device_sim.faults import FaultSpec
from device_sim.sampling import draw_ranges, start_sample
from domain import FaultCode, Reading

FloatArray = npt.NDArray[np.float64]

DAY_S = 86400.0
HOUR_S = 3600.0

METRICS = (
    "supply_temp_c",
    "return_temp_c",
    "outdoor_temp_c",
    "compressor_on",
    "fan_rpm",
    "power_w",
    "filter_dp_pa",
)

# The fault shapes the air-conditioner simulator can produce.
AC_FAULTS: tuple[FaultCode, ...] = (FaultCode.AC_REFRIGERANT_LOW, FaultCode.AC_FILTER_CLOGGED)

# Refrigerant leak at severity 1: the cooling capacity left follows 1 - depth * x**2, x the
# share of the ramp elapsed (a full circuit hides the first losses), then stays at the floor.
LEAK_RAMP_S = 6 * DAY_S
LEAK_DEPTH_AT_FULL_SEVERITY = 0.55
# Filter clogging at severity 1 (a renovation next door, a moulting pet): extra dust
# loading per hour of fan run, growing as the mat of fibres catches ever more.
CLOG_LOAD_PER_H = 0.06
CLOG_ACCEL_H = 8.0

RHO_CP = 1206.0  # J/(m³·K), air at 25 °C
_USE_H_PER_DAY = 9.0  # typical summer use, for the filter's loading before the bank starts

# Independent random streams (the second word of a generator's seed): per unit, except
# the weather, which is per city.
_STREAM_OCCUPANTS = 1
_STREAM_WEATHER = 2
_STREAM_NOISE = 3
_STREAM_PHASE = 4
_STREAM_CLEANING = 5
_STREAM_HEATWAVE = 6
_HEATWAVE_BLOCK_DAYS = 10
_WEATHER_MEMORY = (1.0, 0.8, 0.6, 0.4, 0.2)  # how a day's weather lingers into the next ones
_WEATHER_NORM = math.sqrt(sum(w * w for w in _WEATHER_MEMORY))


@dataclass(frozen=True, slots=True)
class Heatwave:
    """`extra_c` warmer than usual for `days` from `start_ts`, with a day's ramp each side."""

    start_ts: float
    days: float
    extra_c: float = 5.0

    def extra(self, ts: FloatArray) -> FloatArray:
        rise = np.clip((ts - self.start_ts) / DAY_S, 0.0, 1.0)
        fall = np.clip((self.start_ts + self.days * DAY_S - ts) / DAY_S, 0.0, 1.0)
        ramp = np.minimum(rise, fall)
        return self.extra_c * ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep


@dataclass(frozen=True, slots=True)
class Climate:
    """The outdoor air of a Shanghai home: season, daily cycle, weather days and heatwaves.

    Weather is the city's: units given equal climates see the same days (the same
    heatwave hits every home). `season_doy` freezes the season at that day of the year
    (default mid-July, so a simulation in cooling mode is summer whatever the date);
    `None` follows the calendar (Shanghai normals: 5 °C in January, 29 °C in July).
    """

    season_doy: float | None = 200.0
    swing_c: float = 4.0  # half the peak-to-trough daily swing on a clear day
    peak_hour: float = 14.5
    weather_sd_c: float = 1.4  # day-to-day variation of the daily mean
    heatwaves_per_30d: float = 0.6  # random ones: 3-7 days, 2.5-5 °C above normal
    heatwaves: tuple[Heatwave, ...] = ()  # and these, pinned
    weather_seed: int = 0
    utc_offset_s: float = 8 * HOUR_S

    def conditions(self, ts: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Outdoor air °C, sunshine (0-1, cloud included) and the sensible heat ratio of
        cooling (humid days leave less of the capacity for the air temperature)."""
        local = ts + self.utc_offset_s
        hour = (local % DAY_S) / HOUR_S
        offset, cloud, shr = self._daily(local)
        heat = self._heat(ts)
        cloud = cloud / (1.0 + 0.5 * heat)  # a heatwave is a blocking high: clear skies
        daily = np.cos(2 * np.pi * (hour - self.peak_hour) / 24.0)
        daily += 0.25 * np.cos(4 * np.pi * (hour - self.peak_hour) / 24.0)  # quick morning rise
        temp = self._season(local) + offset + heat + self.swing_c * (1.0 - 0.5 * cloud) * daily
        daylight = np.clip(np.sin(np.pi * (hour - 5.2) / 13.8), 0.0, None)
        return temp, daylight * (1.0 - 0.75 * cloud), shr

    def facing(self, ts: FloatArray, peak_hour: float) -> FloatArray:
        """Share of the sunshine a window whose sunniest hour is `peak_hour` lets in."""
        hour = ((ts + self.utc_offset_s) % DAY_S) / HOUR_S
        return 0.3 + 0.7 * np.exp(-0.5 * ((hour - peak_hour) / 2.2) ** 2)

    def daily_max_c(self, day: int) -> float:
        """The afternoon temperature on local day `day` (days since 1970-01-01)."""
        return _daily_max_c(self, day)

    def _season(self, local: FloatArray) -> FloatArray:
        doy = (local / DAY_S - 0.5) % 365.2425 if self.season_doy is None else self.season_doy
        return 16.8 + 12.0 * np.cos(2 * np.pi * (np.asarray(doy) - 205.0) / 365.2425)

    def _daily(self, local: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        # One value per local day, blended with a raised cosine so there is no jump at
        # midnight: a day's value applies fully at noon and fades into the neighbours'.
        pos = local / DAY_S - 0.5
        first = math.floor(float(pos.min())) if pos.size else 0
        last = math.floor(float(pos.max())) + 1 if pos.size else 0
        memory = len(_WEATHER_MEMORY)
        draws = np.array(
            [
                np.random.default_rng([self.weather_seed, _STREAM_WEATHER, d % (1 << 32)])
                .standard_normal(3)
                .tolist()
                for d in range(first - memory + 1, last + 1)
            ]
        )
        weights = np.array(_WEATHER_MEMORY[::-1]) / _WEATHER_NORM
        days = last - first + 1
        lingering = np.array([weights @ draws[d : d + memory] for d in range(days)])
        cloud = np.clip(0.35 + 0.3 * lingering[:, 1], 0.0, 1.0)
        offset = self.weather_sd_c * lingering[:, 0] - 1.5 * (cloud - 0.35)
        shr = np.clip(0.76 - 0.08 * (cloud - 0.35) + 0.02 * draws[memory - 1 :, 2], 0.62, 0.85)
        idx = np.floor(pos).astype(np.int64) - first
        blend = 0.5 - 0.5 * np.cos(np.pi * (pos - np.floor(pos)))

        def smooth(per_day: FloatArray) -> FloatArray:
            return per_day[idx] * (1 - blend) + per_day[idx + 1] * blend

        return smooth(offset), smooth(cloud), smooth(shr)

    def _heat(self, ts: FloatArray) -> FloatArray:
        out = np.zeros_like(ts, dtype=np.float64)
        if not ts.size:
            return out
        waves = list(self.heatwaves)
        block_s = _HEATWAVE_BLOCK_DAYS * DAY_S
        p = min(self.heatwaves_per_30d * _HEATWAVE_BLOCK_DAYS / 30.0, 1.0)
        for block in range(int(ts.min() // block_s) - 1, int(ts.max() // block_s) + 1):
            rng = np.random.default_rng([self.weather_seed, _STREAM_HEATWAVE, block % (1 << 32)])
            if rng.random() < p:
                start = block * block_s + float(rng.uniform(0.0, block_s))
                waves.append(Heatwave(start, float(rng.uniform(3, 7)), float(rng.uniform(2.5, 5))))
        for wave in waves:
            out += wave.extra(ts)
        return out


@functools.lru_cache(maxsize=4096)
def _daily_max_c(climate: Climate, day: int) -> float:
    # Every unit of a city asks for the same days: work each out once.
    ts = np.array([day * DAY_S - climate.utc_offset_s + climate.peak_hour * HOUR_S])
    return float(climate.conditions(ts)[0][0])


@dataclass(frozen=True, slots=True)
class Sessions:
    """When the unit is switched on (`[start, end)`, sorted, disjoint), at which setpoint,
    and the windows left open meanwhile (`[start, end)`, extra W/K to outdoors)."""

    starts: FloatArray
    ends: FloatArray
    setpoints: FloatArray
    window_starts: FloatArray
    window_ends: FloatArray
    window_ua: FloatArray

    def at(self, ts: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per event time: switched on (1/0), setpoint (last one set), open-window W/K."""
        on = np.zeros_like(ts)
        setpoint = np.full_like(ts, 26.0 if not self.setpoints.size else self.setpoints[0])
        if self.starts.size:
            idx = np.searchsorted(self.starts, ts, side="right") - 1
            safe = np.maximum(idx, 0)
            on = ((idx >= 0) & (ts < self.ends[safe])).astype(np.float64)
            setpoint = np.where(idx >= 0, self.setpoints[safe], setpoint)
        ua = np.zeros_like(ts)
        for s, e, w in zip(self.window_starts, self.window_ends, self.window_ua, strict=True):
            ua += np.where((ts >= s) & (ts < e), w, 0.0)
        return on, setpoint, ua * on


@dataclass(frozen=True, slots=True)
class Occupants:
    """The people who use one room's air conditioner, and their habits.

    A living room is cooled from coming home to bedtime on weekdays, most of the day at
    weekends (bar an outing); a bedroom from bedtime to waking (or on a sleep timer), and
    for a weekend nap. On a mild day many do not switch it on at all.
    """

    room: str = "living"  # "living" or "bedroom"
    away_on_weekdays: bool = True
    home_hour: float = 18.5
    bed_hour: float = 23.0
    wake_hour: float = 7.0
    all_night: bool = True  # bedroom: on until morning, else on a sleep timer
    timer_h: float = 3.0
    sleep_mode: bool = False  # bedroom: setpoint +1 °C an hour after bedtime
    setpoint_c: float = 26.0
    comfort_max_c: float = 29.5  # days hotter than this: they nearly always switch it on
    window_open_per_week: float = 0.3  # a window or balcony door left open while it runs
    gain_w: float = 200.0  # people, television, cooking: while the room is in use
    utc_offset_s: float = 8 * HOUR_S

    @classmethod
    def sample(cls, rng: np.random.Generator, *, room: str) -> Occupants:
        """Habits drawn from `rng`, for a "living" room or a "bedroom"."""
        return cls(
            room=room,
            away_on_weekdays=bool(rng.random() < 0.75),
            home_hour=float(rng.uniform(17.5, 19.8)),
            bed_hour=float(rng.uniform(22.0, 24.0)),
            wake_hour=float(rng.uniform(6.3, 8.0)),
            all_night=bool(rng.random() < 0.6),
            timer_h=float(rng.choice([1.0, 2.0, 3.0, 4.0])),
            sleep_mode=bool(rng.random() < 0.4),
            setpoint_c=float(rng.choice([24.0, 25.0, 25.0, 26.0, 26.0, 26.0, 27.0])),
            comfort_max_c=float(rng.uniform(27.5, 31.0)),
            window_open_per_week=float(rng.uniform(0.1, 0.6)),
            gain_w=float(rng.uniform(120.0, 200.0) if room == "bedroom" else rng.uniform(200, 400)),
        )

    def sessions(self, start_ts: float, end_ts: float, seed: int, climate: Climate) -> Sessions:
        """Switched-on periods and open windows between two event times."""
        first = math.floor((start_ts + self.utc_offset_s) / DAY_S) - 1
        last = math.floor((end_ts + self.utc_offset_s) / DAY_S)
        rows: list[tuple[float, float, float]] = []
        windows: list[tuple[float, float, float]] = []
        for day in range(first, last + 1):
            self._day(day, seed, climate, rows, windows)
        rows.sort()
        starts: list[float] = []
        ends: list[float] = []
        sps: list[float] = []
        for s, e, sp in rows:  # keep them disjoint: a later plan waits for the earlier
            s = max(s, ends[-1]) if ends else s
            if e > s:
                starts.append(s)
                ends.append(e)
                sps.append(sp)
        w = np.asarray(windows, dtype=np.float64).reshape(-1, 3)
        keep = (w[:, 1] > start_ts) & (w[:, 0] < end_ts)
        return Sessions(
            np.asarray(starts),
            np.asarray(ends),
            np.asarray(sps),
            w[keep, 0],
            w[keep, 1],
            w[keep, 2],
        )

    def _day(
        self,
        day: int,
        seed: int,
        climate: Climate,
        rows: list[tuple[float, float, float]],
        windows: list[tuple[float, float, float]],
    ) -> None:
        rng = np.random.default_rng([seed, _STREAM_OCCUPANTS, day % (1 << 32)])
        midnight = day * DAY_S - self.utc_offset_s
        weekend = (day + 3) % 7 >= 5  # 1970-01-01 was a Thursday
        hot = climate.daily_max_c(day)
        use = 1.0 / (1.0 + math.exp(-(hot - self.comfort_max_c) / 1.0))
        draws = rng.random(8)
        jitter = rng.normal(0.0, 1.0, 6)
        plans: list[tuple[float, float]] = []  # hours after this midnight
        bed = self.bed_hour + 0.3 * jitter[1]
        if self.room == "living":
            if weekend or not self.away_on_weekdays:
                begin = 10.5 - 1.5 * use + 0.7 * jitter[0]
                if weekend and draws[1] < 0.4:  # an afternoon out
                    out = 13.5 + 1.5 * draws[2]
                    plans += [(begin, out), (out + 2.0 + 2.5 * draws[3], bed)]
                else:
                    plans.append((begin, bed))
            else:
                plans.append((self.home_hour + 0.4 * jitter[0], bed))
        else:
            wake = self.wake_hour + (1.2 if weekend else 0.0) + 0.3 * jitter[2]
            night_end = 24.0 + wake if self.all_night else bed + self.timer_h + 0.3 * jitter[3]
            plans.append((bed - 0.4, night_end))
            if (weekend or not self.away_on_weekdays) and draws[4] < 0.5:
                plans.append((13.0 + 0.5 * jitter[4], 15.5 + 0.5 * jitter[5]))
        sp = self.setpoint_c + float(rng.choice([-1.0, -0.5, 0.0, 0.0, 0.0, 0.0, 0.5]))
        for number, (h0, h1) in enumerate(plans):
            if draws[5 + min(number, 1)] >= 0.1 + 0.9 * use:
                continue  # mild enough to do without
            s, e = midnight + h0 * HOUR_S, midnight + h1 * HOUR_S
            if self.room == "bedroom" and self.sleep_mode and h0 > 18.0 and e - s > 1.5 * HOUR_S:
                rows += [(s, s + HOUR_S, sp), (s + HOUR_S, e, sp + 1.0)]
            else:
                rows.append((s, e, sp))
            if rng.random() < self.window_open_per_week / 7.0:
                at = s + float(rng.uniform(0.0, 0.6)) * (e - s)
                windows.append(
                    (at, at + float(rng.uniform(0.5, 3.0)) * HOUR_S, rng.uniform(60, 200))
                )


@dataclass(frozen=True, slots=True)
class AirConditionerParams:
    """The physical constants of one unit and its room (SI units: W, J/K, W/K, s, °C, Pa)."""

    model: str = "AC-3500"
    inverter: bool = True
    # Refrigeration, rated at 35 °C outdoors, 27 °C return air, high fan, clean filter.
    capacity_w: float = 3500.0  # total (sensible + latent) cooling at frequency 1
    compressor_w: float = 1050.0  # electrical input at frequency 1
    min_freq: float = 0.35  # inverter range, as a share of the rated frequency
    max_freq: float = 1.25
    power_exponent: float = 1.3  # input ~ frequency**this (part load is more efficient)
    power_outdoor_slope: float = 0.022  # input per kelvin of condenser air above 35 °C
    capacity_outdoor_slope: float = 0.012  # capacity lost per kelvin above 35 °C
    capacity_return_slope: float = 0.025  # capacity gained per kelvin of return above 27 °C
    coil_tau_on_s: float = 100.0  # evaporator cooling down after a start
    coil_tau_off_s: float = 200.0  # ...and warming up after a stop
    min_supply_c: float = 9.0  # anti-freeze: an inverter slows down to keep supply above this
    # Controls.
    on_band_c: float = 0.5  # start at setpoint + this...
    off_band_c: float = 1.0  # ...stop at setpoint - this (inverter: at minimum frequency)
    min_off_s: float = 180.0
    min_on_s: float = 180.0
    freq_base: float = 0.55  # PI controller of the inverter frequency on return-air error
    freq_kp: float = 0.35  # per kelvin
    freq_ki: float = 4e-4  # per kelvin-second
    freq_slew: float = 0.01  # per second
    # Indoor fan: rpm per stage (low, medium, high), airflow at high with a clean filter.
    fan_auto: bool = True  # stage follows the return-air error; else `fan_stage` always
    fan_stage: float = 3.0
    rpm_low: float = 780.0
    rpm_med: float = 950.0
    rpm_high: float = 1120.0
    airflow_m3s: float = 0.16
    fan_w: float = 32.0  # at high
    fan_shutoff_pa: float = 250.0  # fan curve: pressure at zero flow, at high rpm
    fan_boost_gain: float = 0.8  # constant-airflow firmware: extra rpm per share of flow lost
    fan_boost_max: float = 0.2
    electronics_w: float = 9.0  # while switched on
    standby_w: float = 2.0
    # Filter: pressure drop at high fan when clean; dust loading per hour of fan run.
    filter_clean_pa: float = 34.0
    filter_load_per_h: float = 0.003
    filter_clean_every_s: float = 42 * DAY_S
    filter_clean_phase: float = 0.3  # where the cleaning schedule stands at ts 0
    filter_residual: float = 0.08  # loading left after a rinse
    # Room: air node (air, furniture) and building mass, to outdoors and to each other.
    ua_air_w_k: float = 60.0  # windows, infiltration
    ua_mass_out_w_k: float = 25.0  # walls and roof
    ua_air_mass_w_k: float = 250.0
    c_air_j_k: float = 1.2e6  # air, furniture, wall and floor surfaces
    c_mass_j_k: float = 7e6
    solar_w: float = 450.0  # peak gain through the window in clear sun
    solar_peak_hour: float = 15.5  # local hour the window catches the most sun
    solar_air_share: float = 0.6
    base_gain_w: float = 80.0  # fridge, lights, standby devices: always
    # Outdoor unit: its sensor sits in the sun and in its own exhaust.
    site_offset_c: float = 0.0
    sensor_sun_c: float = 1.0  # extra reading in full sun
    recirculation_c: float = 0.6  # condenser exhaust drawn back in while running
    # Measurement.
    return_bias_c: float = 0.0
    supply_bias_c: float = 0.0
    temp_noise_c: float = 0.08
    power_noise: float = 0.015  # relative
    rpm_noise: float = 6.0
    dp_noise_pa: float = 0.8

    def as_dict(self) -> dict[str, float | str | bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_MODELS: dict[str, dict[str, Any]] = {
    # Fixed facts per model, then ranges each unit draws uniformly from.
    "AC-2500": {
        "fixed": {"inverter": False, "min_freq": 1.0, "max_freq": 1.0, "room": "bedroom"},
        "ranges": {
            "capacity_w": (2400.0, 2600.0),
            "compressor_w": (760.0, 860.0),
            "airflow_m3s": (0.135, 0.150),
            "rpm_high": (1100.0, 1200.0),
            "fan_w": (20.0, 26.0),
            "ua_air_w_k": (30.0, 60.0),
            "ua_mass_out_w_k": (10.0, 25.0),
            "c_air_j_k": (6e5, 1.0e6),
            "c_mass_j_k": (3.5e6, 6e6),
            "ua_air_mass_w_k": (150.0, 250.0),
            "solar_w": (120.0, 450.0),
            "base_gain_w": (30.0, 70.0),
        },
    },
    "AC-3500": {
        "fixed": {"inverter": True, "min_freq": 0.35, "max_freq": 1.25, "room": "living"},
        "ranges": {
            "capacity_w": (3350.0, 3650.0),
            "compressor_w": (980.0, 1100.0),
            "airflow_m3s": (0.15, 0.165),
            "rpm_high": (1080.0, 1160.0),
            "fan_w": (28.0, 36.0),
            "ua_air_w_k": (45.0, 90.0),
            "ua_mass_out_w_k": (15.0, 35.0),
            "c_air_j_k": (1.0e6, 1.6e6),
            "c_mass_j_k": (6e6, 1e7),
            "ua_air_mass_w_k": (200.0, 350.0),
            "solar_w": (250.0, 800.0),
            "base_gain_w": (60.0, 140.0),
        },
    },
}
MODELS: tuple[str, ...] = tuple(_MODELS)


@dataclass(frozen=True, slots=True)
class AirConditionerUnit:
    """One installed air conditioner: its physics, its room's occupants, the weather, any fault."""

    device_id: str
    params: AirConditionerParams = field(default_factory=AirConditionerParams)
    occupants: Occupants = field(default_factory=Occupants)
    climate: Climate = field(default_factory=Climate)
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
        climate: Climate | None = None,
    ) -> AirConditionerUnit:
        """A unit with realistic per-unit variation drawn deterministically from `seed`.

        `climate` is the city's weather, shared by every unit given the same one (by
        default a Shanghai midsummer whatever the date: see `Climate.season_doy`).
        """
        rng, model = start_sample(
            kind="air conditioner",
            seed=seed,
            model=model,
            models=MODELS,
            fault=fault,
            faults=AC_FAULTS,
        )
        spec = _MODELS[model]
        fixed = dict(spec["fixed"])
        room = str(fixed.pop("room"))
        drawn: dict[str, Any] = draw_ranges(rng, spec["ranges"])
        rpm_high = drawn["rpm_high"]
        clean_every = float(rng.uniform(28.0, 70.0)) * DAY_S
        loaded_at_cleaning = float(rng.uniform(0.9, 1.4))  # 55-85 Pa at high fan by then
        params = AirConditionerParams(
            model=model,
            rpm_low=rpm_high * float(rng.uniform(0.66, 0.72)),
            rpm_med=rpm_high * float(rng.uniform(0.83, 0.87)),
            fan_auto=bool(rng.random() < 0.85),
            fan_stage=float(rng.choice([2.0, 3.0, 3.0])),
            power_exponent=float(rng.uniform(1.2, 1.4)),
            power_outdoor_slope=float(rng.uniform(0.018, 0.026)),
            capacity_outdoor_slope=float(rng.uniform(0.010, 0.014)),
            capacity_return_slope=float(rng.uniform(0.02, 0.03)),
            freq_kp=float(rng.uniform(0.3, 0.4)),
            min_off_s=float(rng.choice([180.0, 180.0, 240.0])),
            min_supply_c=float(rng.uniform(8.0, 9.5)),
            filter_clean_pa=float(rng.uniform(25.0, 36.0)),
            filter_load_per_h=loaded_at_cleaning / (clean_every / DAY_S * _USE_H_PER_DAY),
            filter_clean_every_s=clean_every,
            filter_clean_phase=float(rng.random()),
            solar_peak_hour=float(rng.choice([9.5, 12.5, 15.5, 16.5])),
            site_offset_c=float(rng.normal(0.0, 0.5)),
            sensor_sun_c=float(rng.uniform(0.0, 2.0)),
            recirculation_c=float(rng.uniform(0.3, 1.0)),
            return_bias_c=float(rng.normal(0.0, 0.15)),
            supply_bias_c=float(rng.normal(0.0, 0.15)),
            **fixed,
            **drawn,
        )
        occupants = Occupants.sample(rng, room=room)
        return cls(device_id, params, occupants, climate or Climate(), seed, fault)

    def readings(
        self, *, start_ts: float, duration_s: float, interval_s: float = 60.0
    ) -> Iterator[Reading]:
        """This unit's readings on its own (identical to its readings in a fleet)."""
        bank = AirConditionerBank([self], start_ts=start_ts, interval_s=interval_s)
        for ts, metrics in bank.ticks(duration_s):
            yield Reading(self.device_id, ts, bank.seq, {k: v[0] for k, v in metrics.items()})


def refrigerant_fraction(fault: FaultSpec | None, ts: FloatArray) -> FloatArray:
    """Cooling capacity the refrigerant charge still allows (1 = full) at each event time."""
    out = np.ones_like(ts, dtype=np.float64)
    if fault is None or fault.code is not FaultCode.AC_REFRIGERANT_LOW:
        return out
    x = np.clip((ts - fault.onset_ts) / LEAK_RAMP_S, 0.0, 1.0)
    return out - LEAK_DEPTH_AT_FULL_SEVERITY * fault.severity * x * x


def filter_clogging(fault: FaultSpec | None, ts: FloatArray) -> FloatArray:
    """Whether the filter is clogging abnormally fast at each event time."""
    if fault is None or fault.code is not FaultCode.AC_FILTER_CLOGGED:
        return np.zeros_like(ts, dtype=np.bool_)
    return np.asarray(ts >= fault.onset_ts)


def filter_cleanings(p: AirConditionerParams, seed: int, start: float, end: float) -> FloatArray:
    """When the owner of unit (`p`, `seed`) rinses the filter in `[start, end)`: about every
    `p.filter_clean_every_s`, give or take a few days. (The bank skips those that fall
    while a clogging fault runs: nobody rinses a filter back to normal mid-fault.)"""
    every = p.filter_clean_every_s
    anchor = p.filter_clean_phase * every
    first = math.floor((start - anchor) / every) - 1
    last = math.ceil((end - anchor) / every) + 1
    out = []
    for k in range(first, last + 1):
        jitter = np.random.default_rng([seed, _STREAM_CLEANING, k % (1 << 32)]).normal(0.0, 1.5)
        at = anchor + k * every + float(jitter) * DAY_S
        if start <= at < end:
            out.append(at)
    return np.asarray(out, dtype=np.float64)


def _loading_at(p: AirConditionerParams, seed: int, ts: float) -> float:
    """Filter loading at `ts`, from the time since its last cleaning (a starting state)."""
    past = filter_cleanings(p, seed, ts - 3 * p.filter_clean_every_s, ts)
    since = ts - float(past[-1]) if past.size else p.filter_clean_every_s
    return p.filter_residual + p.filter_load_per_h * _USE_H_PER_DAY * since / DAY_S


def _column(units: Sequence[AirConditionerUnit], name: str) -> FloatArray:
    return np.array([float(getattr(u.params, name)) for u in units], dtype=np.float64)


class AirConditionerBank(UnitBank[AirConditionerUnit]):
    """Steps a set of units together in event time, vectorised across units.

    Inputs that do not depend on the state (weather, sun, who is home and what they set,
    open windows, fault shapes, filter cleanings, measurement noise) are generated a day
    at a time; only the state update runs per internal step (at most `max_step_s`, a
    whole number of steps per report). A report carries the state at its end, except
    `power_w`, the interval's mean.
    """

    def __init__(
        self,
        units: Sequence[AirConditionerUnit],
        *,
        start_ts: float,
        interval_s: float = 60.0,
        max_step_s: float = 60.0,
    ) -> None:
        super().__init__(units, start_ts=start_ts, interval_s=interval_s, max_step_s=max_step_s)
        names = [f.name for f in fields(AirConditionerParams) if f.name != "model"]
        p = {name: _column(self.units, name) for name in names}
        self._p = p
        self._noise_rngs = [np.random.default_rng([u.seed, _STREAM_NOISE]) for u in self.units]
        n = len(self.units)
        phase = np.array(
            [np.random.default_rng([u.seed, _STREAM_PHASE]).random() for u in self.units]
        )
        sp = np.array([u.occupants.setpoint_c for u in self.units])
        # Start warm, as a room is after an afternoon nobody cooled it.
        self.room = sp + 1.0 + 2.0 * phase
        self.mass = sp + 1.5 + 2.0 * phase
        self.coil = np.zeros(n)  # supply-air depression below return (lags the compressor)
        self.comp = np.zeros(n, dtype=np.bool_)
        self.freq = np.zeros(n)
        self.integral = np.zeros(n)
        self.stage = np.zeros(n)  # fan: 0 off, 1 low, 2 medium, 3 high
        self.on_since = np.full(n, self.start_ts - HOUR_S)
        self.off_since = np.full(n, self.start_ts - HOUR_S)
        self.loading = np.array([_loading_at(u.params, u.seed, self.start_ts) for u in self.units])
        self.clog_run_s = np.zeros(n)  # fan run since a clogging fault began

    def ticks(self, duration_s: float) -> Iterator[tuple[float, dict[str, list[Any]]]]:
        """Yield `(ts, metrics)` per report, each metric a list with one value per unit."""
        reports = int(duration_s // self.interval_s + 1e-9)
        per_chunk = max(1, int(DAY_S // self.interval_s))
        done = 0
        while done < reports:
            count = min(per_chunk, reports - done)
            yield from self._chunk(done, count)
            done += count

    def _inputs(self, edges: FloatArray, mids: FloatArray) -> dict[str, FloatArray]:
        """Everything the state update needs that does not depend on the state."""
        steps, n = mids.size, len(self.units)
        names = ("amb", "sun", "shr", "on", "setpoint", "window_ua", "gain", "charge", "clog")
        out = {name: np.empty((steps, n)) for name in names}
        out["clean"] = np.zeros((steps, n))
        weather: dict[Climate, tuple[FloatArray, FloatArray, FloatArray]] = {}
        t0, dt = float(edges[0]), float(edges[1] - edges[0])
        for i, u in enumerate(self.units):
            if u.climate not in weather:
                weather[u.climate] = u.climate.conditions(mids)
            amb, sun, shr = weather[u.climate]
            p = u.params
            out["amb"][:, i] = amb + p.site_offset_c
            out["sun"][:, i] = sun * u.climate.facing(mids, p.solar_peak_hour)
            out["shr"][:, i] = shr
            sessions: Sessions = u.occupants.sessions(
                t0 - DAY_S, float(edges[-1]), u.seed, u.climate
            )
            on, setpoint, window_ua = sessions.at(mids)
            out["on"][:, i] = on
            out["setpoint"][:, i] = setpoint
            out["window_ua"][:, i] = window_ua
            out["gain"][:, i] = p.base_gain_w + on * u.occupants.gain_w
            out["charge"][:, i] = refrigerant_fraction(u.fault, mids)
            clogging = filter_clogging(u.fault, mids)
            out["clog"][:, i] = clogging
            for at in filter_cleanings(p, u.seed, t0, float(edges[-1])):
                k = int((at - t0) // dt)
                if not clogging[k]:  # nobody rinses it back to normal mid-fault
                    out["clean"][k, i] = 1.0
        return out

    def _chunk(self, first: int, count: int) -> Iterator[tuple[float, dict[str, list[Any]]]]:
        p, n, m, dt = self._p, len(self.units), self.substeps, self.dt
        t0 = self.start_ts + first * self.interval_s
        steps = count * m
        edges: FloatArray = t0 + dt * np.arange(steps + 1, dtype=np.float64)
        mids: FloatArray = edges[:-1] + dt / 2
        x = self._inputs(edges, mids)
        noise = np.empty((count, n, 6))
        for i in range(n):
            noise[:, i, :] = self._noise_rngs[i].standard_normal((count, 6))

        # Everything that does not depend on the state, worked out for the whole chunk
        # at once: per step only the state-dependent terms remain.
        amb, sp = x["amb"], x["setpoint"]
        on_sched = x["on"] > 0.5
        solar = p["solar_w"] * x["sun"]
        k_air, k_mass = dt / p["c_air_j_k"], dt / p["c_mass_j_k"]
        ua_am, ua_mo = p["ua_air_mass_w_k"], p["ua_mass_out_w_k"]
        ua_air = p["ua_air_w_k"] + x["window_ua"]
        air_keep = 1.0 - k_air * (ua_air + ua_am)
        air_in = k_air * (ua_air * amb + x["gain"] + p["solar_air_share"] * solar)
        air_from_mass = k_air * ua_am
        mass_keep = 1.0 - k_mass * (ua_am + ua_mo)
        mass_in = k_mass * (ua_mo * amb + (1.0 - p["solar_air_share"]) * solar)
        mass_from_air = k_mass * ua_am
        charge = x["charge"]
        comp_scale = p["compressor_w"] * (0.7 + 0.3 * charge)
        cap_scale = p["capacity_w"] * charge
        shr_day = x["shr"]
        coil_on = np.exp(-dt / p["coil_tau_on_s"])
        coil_off = np.exp(-dt / p["coil_tau_off_s"])
        flow_w_k = RHO_CP * p["airflow_m3s"]  # sensible W per kelvin of airflow at high fan
        k_cool = k_air * flow_w_k
        rpm_of = np.stack([np.zeros(n), p["rpm_low"], p["rpm_med"], p["rpm_high"]]) / p["rpm_high"]
        cols = np.arange(n)
        auto = p["fan_auto"] > 0.5
        fixed_stage = p["fan_stage"]
        least_running = np.where(p["inverter"] > 0.5, 1.0, 2.0)  # fixed speed: never low
        base_w = np.where(on_sched, p["electronics_w"], p["standby_w"])
        fmin, fmax, inverter = p["min_freq"], p["max_freq"], p["inverter"] > 0.5
        slew = p["freq_slew"] * dt
        f_base, kp, ki_dt = p["freq_base"], p["freq_kp"], p["freq_ki"] * dt
        on_band, off_band = p["on_band_c"], -p["off_band_c"]
        min_supply = p["min_supply_c"]
        min_off, min_on, ret_bias = p["min_off_s"], p["min_on_s"], p["return_bias_c"]
        cap_out, cap_ret = p["capacity_outdoor_slope"], p["capacity_return_slope"]
        pow_out, pow_exp, recirc = (
            p["power_outdoor_slope"],
            p["power_exponent"],
            p["recirculation_c"],
        )
        kf0, fan_w = p["filter_clean_pa"], p["fan_w"]
        boost_gain, boost_max = (
            p["fan_boost_gain"] * kf0 / p["fan_shutoff_pa"] / 2,
            p["fan_boost_max"],
        )
        excess_per_load = kf0 / p["fan_shutoff_pa"]
        load_step = p["filter_load_per_h"] * dt / HOUR_S
        severity = np.array([u.fault.severity if u.fault else 0.0 for u in self.units])
        clog_step = severity * CLOG_LOAD_PER_H * dt / HOUR_S
        clog_accel = CLOG_ACCEL_H * HOUR_S
        clogging_at, cleaned_at = x["clog"] > 0.5, x["clean"] > 0.5
        resid = p["filter_residual"]

        ta, tm, coil = self.room, self.mass, self.coil
        comp, freq, integral, stage = self.comp, self.freq, self.integral, self.stage
        on_since, off_since = self.on_since, self.off_since
        loading, clog_run = self.loading, self.clog_run_s
        # What each report needs of the state, recorded at its end (power: its mean).
        rec_room, rec_coil, rec_comp, rec_speed, rec_flow, rec_loading, rec_energy = (
            np.empty((count, n)) for _ in range(7)
        )
        k = 0
        for r in range(count):
            energy = np.zeros(n)
            for _ in range(m):
                t = edges[k]
                on = on_sched[k]
                err = ta + ret_bias - sp[k]
                # Thermostat: start above the band once the compressor has rested; stop
                # below it (an inverter only once even its lowest speed overcools), or
                # when someone switches the unit off.
                start = on & ~comp & (err >= on_band) & (t - off_since >= min_off)
                stop = comp & (~on | ((err <= off_band) & (t - on_since >= min_on)))
                comp = (comp | start) & ~stop
                on_since = np.where(start, t, on_since)
                off_since = np.where(stop, t, off_since)
                # Inverter: PI on the return-air error, anti-windup, slew-limited.
                integral = np.where(start, 0.0, integral)
                target = f_base + kp * err + integral
                free = ~(((target >= fmax) & (err > 0)) | ((target <= fmin) & (err < 0)))
                integral = np.where(comp & free, integral + ki_dt * err, integral)
                wanted = np.minimum(np.maximum(target, fmin), fmax)
                ramped = np.minimum(np.maximum(wanted, freq - slew), freq + slew)
                freq = np.where(comp, np.where(inverter, np.maximum(ramped, fmin), 1.0), 0.0)
                # Indoor fan. Auto mode: high when far above setpoint, low once below it,
                # medium in between (with hysteresis); low while the compressor rests.
                up = np.where(err > 0.6, np.maximum(stage, 2.0), stage)
                down = np.where(err < 0.8, np.minimum(up, 2.0), up)
                auto_stage = np.where(err > 1.5, 3.0, np.where(err < 0.0, 1.0, down))
                auto_stage = np.where(comp, np.maximum(auto_stage, least_running), 1.0)
                stage = np.where(on, np.where(auto, auto_stage, fixed_stage), 0.0)
                # Airflow through the fan curve and the (loading) filter; the firmware
                # speeds the fan up a little to win some of the lost flow back.
                excess = excess_per_load * loading
                speed = rpm_of[stage.astype(np.int64), cols] * (
                    1.0 + np.minimum(boost_max, boost_gain * loading)
                )
                flow = speed / np.sqrt(1.0 + excess)  # share of rated airflow
                # Refrigeration: capacity with condenser air, return air, charge, airflow;
                # the slower the compressor, the larger the share that is sensible.
                cond = amb[k] + recirc * comp
                sensible = (
                    cap_scale[k]
                    * freq
                    * np.minimum(shr_day[k] + 0.15 * (1.0 - freq), 0.95)
                    * (1.0 - cap_out * (cond - 35.0))
                    * (1.0 + cap_ret * (ta - 27.0))
                    * np.sqrt(np.sqrt(flow))
                )
                steady = sensible / (flow_w_k * np.maximum(flow, 0.05))
                # Anti-freeze protection: the coil must not ice up. An inverter slows its
                # compressor to hold the supply air above a limit; a fixed-speed
                # compressor cannot, and its evaporating temperature drops instead.
                limit = np.maximum(ta - min_supply, 0.0)
                derate = np.where(
                    inverter & (steady > limit), limit / np.maximum(steady, 1e-6), 1.0
                )
                steady = np.minimum(steady, limit)
                coil = steady + (coil - steady) * np.where(comp, coil_on, coil_off)
                coil = np.where(flow > 0.0, coil, coil * coil_off)
                # Room air and building mass (explicit Euler).
                new_ta = ta * air_keep[k] + air_in[k] + air_from_mass * tm - k_cool * flow * coil
                tm = tm * mass_keep + mass_in[k] + mass_from_air * ta
                ta = new_ta
                # Dust loads the filter with the air it passes; a rinse clears it.
                fault_load = np.where(
                    clogging_at[k] & (flow > 0.0), clog_step * (1.0 + clog_run / clog_accel), 0.0
                )
                clog_run = clog_run + np.where(fault_load > 0.0, dt, 0.0)
                loading = np.where(cleaned_at[k], resid, loading + load_step * flow + fault_load)
                energy += (
                    base_w[k]
                    + fan_w * speed**3
                    + comp_scale[k] * (freq * derate) ** pow_exp * (1.0 + pow_out * (cond - 35.0))
                )
                k += 1
            rec_room[r], rec_coil[r], rec_comp[r] = ta, coil, comp
            rec_speed[r], rec_flow[r], rec_loading[r], rec_energy[r] = speed, flow, loading, energy
        self.room, self.mass, self.coil = ta, tm, coil
        self.comp, self.freq, self.integral, self.stage = comp, freq, integral, stage
        self.on_since, self.off_since = on_since, off_since
        self.loading, self.clog_run_s = loading, clog_run

        # Measurement, for the whole chunk at once: noise, sensor quirks, resolution.
        z = noise
        last = np.arange(1, count + 1) * m - 1  # the step that ends each report
        running = rec_flow > 0.0
        ret = rec_room + p["return_bias_c"] + p["temp_noise_c"] * z[:, :, 0]
        supply = rec_room - rec_coil + p["supply_bias_c"] + p["temp_noise_c"] * z[:, :, 1]
        outdoor = amb[last] + p["sensor_sun_c"] * x["sun"][last] + recirc * rec_comp
        outdoor = outdoor + p["temp_noise_c"] * z[:, :, 2]
        power = rec_energy / m * (1.0 + p["power_noise"] * z[:, :, 3])
        rpm = np.where(running, rec_speed * p["rpm_high"] + p["rpm_noise"] * z[:, :, 4], 0.0)
        dp = kf0 * (1.0 + rec_loading) * rec_flow**2 + p["dp_noise_pa"] * z[:, :, 5]
        columns = {
            "supply_temp_c": np.round(supply, 1).tolist(),
            "return_temp_c": np.round(ret, 1).tolist(),
            "outdoor_temp_c": np.round(outdoor, 1).tolist(),
            "compressor_on": rec_comp.astype(np.int64).tolist(),
            "fan_rpm": np.round(rpm).astype(np.int64).tolist(),
            "power_w": np.round(power, 1).tolist(),
            "filter_dp_pa": np.round(np.maximum(dp, 0.0), 1).tolist(),
        }
        report_ts = np.round(edges[last + 1], 3).tolist()
        for r in range(count):
            self.seq += 1
            yield report_ts[r], {name: values[r] for name, values in columns.items()}
