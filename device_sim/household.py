"""The world around a fridge: the kitchen's temperature and the household's habits.

Both are deterministic functions of event time and a per-unit seed. A day's door
openings are drawn from a generator seeded by (unit seed, local day), so any stretch of
time can be generated on its own and comes out the same every time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

DAY_S = 86400.0
HOUR_S = 3600.0

# Independent random streams per unit (the second word of the generator's seed).
_STREAM_DOORS = 1
_STREAM_WEATHER = 2


@dataclass(frozen=True, slots=True)
class Kitchen:
    """Ambient temperature around the fridge: a daily cycle, cooking, day-to-day weather."""

    base_c: float = 24.0
    swing_c: float = 2.0  # half the peak-to-trough daily swing
    peak_hour: float = 15.0  # local time of the warmest hour
    cooking_c: float = 1.0  # extra warmth while dinner is cooked
    dinner_hour: float = 18.5
    weather_sd_c: float = 0.8  # day-to-day variation of the daily mean
    utc_offset_s: float = 8 * HOUR_S

    def ambient_c(self, ts: FloatArray, seed: int) -> FloatArray:
        """Kitchen temperature at each event time in `ts`."""
        local = ts + self.utc_offset_s
        hour = (local % DAY_S) / HOUR_S
        daily = self.swing_c * np.cos(2 * np.pi * (hour - self.peak_hour) / 24.0)
        cooking = self.cooking_c * np.exp(-0.5 * ((hour - self.dinner_hour) / 0.75) ** 2)
        return self.base_c + daily + cooking + self._weather(local, seed)

    def _weather(self, local: FloatArray, seed: int) -> FloatArray:
        # One offset per local day, blended with a raised cosine so there is no jump at
        # midnight: the offset applies fully at noon and fades into the neighbours'.
        pos = local / DAY_S - 0.5
        first = math.floor(float(pos.min())) if pos.size else 0
        last = math.floor(float(pos.max())) + 1 if pos.size else 0
        offsets = np.array(
            [self._day_offset(day, seed) for day in range(first, last + 1)], dtype=np.float64
        )
        idx = np.floor(pos).astype(np.int64) - first
        frac = pos - np.floor(pos)
        blend = 0.5 - 0.5 * np.cos(np.pi * frac)
        return offsets[idx] * (1 - blend) + offsets[idx + 1] * blend

    def _day_offset(self, day: int, seed: int) -> float:
        rng = np.random.default_rng([seed, _STREAM_WEATHER, day % (1 << 32)])
        return float(rng.normal(0.0, self.weather_sd_c))


@dataclass(frozen=True, slots=True)
class DoorEvents:
    """Door openings `[start, end)` (sorted, non-overlapping) and heat loads put in."""

    starts: FloatArray
    ends: FloatArray
    load_ts: FloatArray  # when warm groceries went in
    load_j: FloatArray  # heat they carry above cabinet temperature, joules

    def open_seconds(self, edges: FloatArray) -> FloatArray:
        """Seconds the door was open in each interval `[edges[k], edges[k+1])`."""
        if self.starts.size == 0:
            return np.zeros(edges.size - 1)
        durations = self.ends - self.starts
        before = np.concatenate(([0.0], np.cumsum(durations)))
        # Open time accumulated up to t: whole events that started before, plus the
        # part of the latest one that started before t.
        idx = np.searchsorted(self.starts, edges, side="right") - 1
        safe = np.maximum(idx, 0)
        partial = np.clip(edges - self.starts[safe], 0.0, durations[safe])
        accumulated = np.where(idx >= 0, before[safe] + partial, 0.0)
        return np.diff(accumulated)


@dataclass(frozen=True, slots=True)
class Household:
    """When the people living with a fridge open it, and how much."""

    activity: float = 1.0  # scales how often the door is opened
    breakfast_hour: float = 7.3
    lunch_at_home: bool = False
    dinner_hour: float = 18.5
    shopping_per_week: float = 1.5
    utc_offset_s: float = 8 * HOUR_S

    def door_events(self, start_ts: float, end_ts: float, seed: int) -> DoorEvents:
        """Openings and grocery loads between two event times."""
        first = math.floor((start_ts + self.utc_offset_s) / DAY_S) - 1
        last = math.floor((end_ts + self.utc_offset_s) / DAY_S)
        starts: list[float] = []
        durations: list[float] = []
        load_ts: list[float] = []
        load_j: list[float] = []
        for day in range(first, last + 1):
            self._day(day, seed, starts, durations, load_ts, load_j)
        order = np.argsort(starts, kind="stable")
        s = np.asarray(starts, dtype=np.float64)[order]
        e = s + np.asarray(durations, dtype=np.float64)[order]
        s, e = _merge(s, e)
        keep = (e > start_ts) & (s < end_ts)
        lt = np.asarray(load_ts, dtype=np.float64)
        lj = np.asarray(load_j, dtype=np.float64)
        lkeep = (lt >= start_ts) & (lt < end_ts)
        return DoorEvents(s[keep], e[keep], lt[lkeep], lj[lkeep])

    def _day(
        self,
        day: int,
        seed: int,
        starts: list[float],
        durations: list[float],
        load_ts: list[float],
        load_j: list[float],
    ) -> None:
        rng = np.random.default_rng([seed, _STREAM_DOORS, day % (1 << 32)])
        midnight = day * DAY_S - self.utc_offset_s
        weekend = (day + 3) % 7 >= 5  # 1970-01-01 was a Thursday
        act = self.activity * (1.3 if weekend else 1.0)
        lunch = 3.0 if (self.lunch_at_home or weekend) else 0.6
        hours: list[float] = []
        # Meals cluster openings: getting things out, putting them back, a second look.
        for mean, centre, spread in (
            (3.0, self.breakfast_hour + (1.2 if weekend else 0.0), 0.35),
            (lunch, 12.3, 0.4),
            (7.0, self.dinner_hour, 0.55),
        ):
            hours.extend(rng.normal(centre, spread, rng.poisson(mean * act)))
        hours.extend(rng.uniform(20.0, 23.3, rng.poisson(2.0 * act)))  # evening snacks
        hours.extend(rng.uniform(7.0, 22.0, rng.poisson(5.0 * act)))  # during the day
        hours.extend(rng.uniform(0.0, 6.0, rng.poisson(0.3)))  # a glass of water at night
        n = len(hours)
        dur = np.clip(rng.lognormal(math.log(12.0), 0.6, n), 3.0, 90.0)
        long_look = rng.random(n) < 0.04  # staring into the fridge, cleaning a shelf
        dur = np.where(long_look, rng.uniform(40.0, 120.0, n), dur)
        starts.extend(midnight + np.clip(np.asarray(hours), 0.0, 23.99) * HOUR_S)
        durations.extend(dur)
        # A grocery run: the door stays open while things go in, and they arrive warm.
        if rng.random() < self.shopping_per_week / 7.0 * (1.5 if weekend else 0.8):
            hour = rng.uniform(10.0, 18.0) if weekend else rng.uniform(17.5, 20.0)
            at = midnight + hour * HOUR_S
            starts.append(at)
            durations.append(float(rng.uniform(60.0, 180.0)))
            load_ts.append(at + 30.0)
            load_j.append(float(rng.uniform(120e3, 350e3)))


def _merge(starts: FloatArray, ends: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Merge overlapping intervals (two openings in a row are one longer one)."""
    if starts.size == 0:
        return starts, ends
    out_s = [float(starts[0])]
    out_e = [float(ends[0])]
    for s, e in zip(starts[1:].tolist(), ends[1:].tolist(), strict=True):
        if s <= out_e[-1]:
            out_e[-1] = max(out_e[-1], e)
        else:
            out_s.append(s)
            out_e.append(e)
    return np.asarray(out_s), np.asarray(out_e)
