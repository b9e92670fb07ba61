"""Event-time detectors for battery-pack faults: one object per device and fault, O(1) state.

`OverheatDetector` catches a pack running far hotter than the air around it and its own
current's I²R heat explain — an internal short or a failing high-resistance cell
(CRITICAL). `WearDetector` follows the state-of-health trend of the gauge's full-charge
capacity and opens a ticket when the fade is significant and end of life is near
(MEDIUM). Both ignore readings older than the last one they used and keep all
thresholds in a `BatteryProfile`.
"""

from __future__ import annotations

import math
from typing import Any

from detection.detector_base import ProfiledDetector, ewma_alpha
from detection.detector_set import DetectorSet
from detection.profiles import BatteryProfile
from detection.prognosis import EolProjection, FadeTrend
from domain import Anomaly, FaultCode, Reading, Severity

DAY_S = 86400.0


class _Detector(ProfiledDetector[BatteryProfile]):
    """Battery detectors read the battery profile."""

    profile_type = BatteryProfile


class OverheatDetector(_Detector):
    """The pack is far hotter than the air around it plus its own I²R heat explain.

    The detector keeps an estimate of the surrounding air (what a resting pack settles
    to, tracked slowly through use) and a linear thermal model of the pack's rise above
    it: the squared C-rate (current over design capacity; I²R heat over the cooling of a
    pack that size) on charge and on discharge through first-order filters (faster while
    the pack works than while it rests: an e-bike pack cools slower parked than it did
    riding), weighted by per-device gains (kelvin per C²) learned by decayed, ridge-
    regularised least squares while all is well. A hot day moves the air estimate; a hill climb or a
    fast charge is explained by the gains; heat from nowhere — during charge, at rest,
    intermittent or sudden — is the fault.

    A ride happens outdoors, in air the detector never sees: warmth beyond the learning
    gate met while discharging is credited to those unseen surroundings (up to what a
    hot afternoon can add) and forgotten as slowly as the slowest parked pack cools, so a
    sunny ride is not a short, while a short's heat, which keeps coming, outlasts the
    credit. Cold air on a ride cannot teach the detector that discharging heats nothing
    either: the discharge gain never falls below the charge gain over the most a ride's
    airflow can cool.

    >>> from domain import Reading
    >>> detector = OverheatDetector()
    >>> found = []
    >>> for minute in range(0, 8 * 60):  # resting at 22 °C; a short heats it from 5 h on
    ...     heat = 0.0 if minute < 300 else 25.0 * (1 - math.exp(-(minute - 300) / 40))
    ...     metrics = {"temp_c": 22.0 + heat, "current_a": 0.0, "soc_pct": 90}
    ...     anomaly = detector.update(Reading("b-1", 60.0 * minute, minute, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.detected_at / 60, a.onset_at / 60) for a in found]
    [('BATTERY_OVERHEAT', 326.0, 303.0)]
    """

    fault_code = FaultCode.BATTERY_OVERHEAT
    severity = Severity.CRITICAL
    _state_fields = (
        "first_ts",
        "last_ts",
        "ambient",
        "heat_charge",
        "heat_discharge",
        "s_cc",
        "s_cd",
        "s_dd",
        "s_cy",
        "s_dy",
        "excess",
        "unseen",
        "calm_at",
        "hot_since",
        "latched",
        "clear_since",
        "peak_excess",
    )

    def __init__(self, profile: BatteryProfile | None = None) -> None:
        super().__init__(profile)
        self.first_ts_: float | None = None
        self.last_ts_: float | None = None
        self.ambient_: float | None = None  # the air around the pack, estimated
        self.heat_charge_ = 0.0  # squared C-rate while charging, low-pass filtered
        self.heat_discharge_ = 0.0
        # Decayed normal equations of rise = k_c * heat_charge + k_d * heat_discharge.
        self.s_cc_ = 0.0
        self.s_cd_ = 0.0
        self.s_dd_ = 0.0
        self.s_cy_ = 0.0
        self.s_dy_ = 0.0
        self.excess_ = 0.0
        # Warmth from surroundings nobody measures (a ride in the afternoon sun), decaying
        # as the pack cools once it is back indoors.
        self.unseen_ = 0.0
        self.calm_at_: float | None = None  # last time the excess stood below the onset level
        self.hot_since_: float | None = None
        self.latched_ = False
        self.clear_since_: float | None = None
        self.peak_excess_ = 0.0

    def gains(self) -> tuple[float, float]:
        """Learned steady-state heating (K per C²) on charge and on discharge: ridge least
        squares towards the profile's prior, clipped to what a pack can physically do."""
        p = self.profile
        w, k0 = p.gain_prior_weight, p.gain_prior_k_per_c2
        a, b, d = self.s_cc_ + w, self.s_cd_, self.s_dd_ + w
        y1, y2 = self.s_cy_ + w * k0, self.s_dy_ + w * k0
        det = a * d - b * b
        top = p.gain_max_k_per_c2
        k_c = min(max((d * y1 - b * y2) / det, p.gain_min_k_per_c2), top)
        k_d = min(max((a * y2 - b * y1) / det, p.gain_min_k_per_c2), top)
        # The same resistance heats the pack either way; only the cooling differs, and
        # airflow on a ride cools at most `use_cooling_max` times better than parked. A
        # ride through cold air (the pack colder than the indoor air estimate) must not
        # teach the detector that discharging heats nothing.
        k_d = max(k_d, k_c / p.use_cooling_max)
        return k_c, k_d

    def update(self, reading: Reading) -> Anomaly | None:
        """Learn from one reading; return an anomaly when it confirms an overheating pack."""
        p = self.profile
        ts = reading.ts
        if self.last_ts_ is not None and ts <= self.last_ts_:
            return None  # late or repeated: event time has moved past it
        temp = reading.get("temp_c")
        current = reading.get("current_a")
        design = reading.get("design_capacity_mah")
        if temp is None or current is None:
            return None
        rate = current / (design / 1000.0) if design else current / p.default_capacity_ah
        if self.last_ts_ is None or self.ambient_ is None or self.first_ts_ is None:
            self.first_ts_ = self.last_ts_ = self.calm_at_ = ts
            self.ambient_ = temp
            return None
        dt = ts - self.last_ts_
        self.last_ts_ = ts
        if dt > p.max_gap_s:
            self.hot_since_ = None  # persistence must be seen, not assumed
        # The filters are physics (heat decays while nobody watches), so use the real dt.
        working = abs(current) >= p.rest_current_a
        a = ewma_alpha(dt, p.heat_tau_work_s if working else p.heat_tau_rest_s)
        c2 = rate * rate
        self.heat_charge_ += a * ((c2 if current > 0 else 0.0) - self.heat_charge_)
        self.heat_discharge_ += a * ((c2 if current < 0 else 0.0) - self.heat_discharge_)
        hc, hd = self.heat_charge_, self.heat_discharge_
        k_c, k_d = self.gains()
        explained = k_c * hc + k_d * hd
        # While discharging the pack may be outdoors, in air the detector never sees: a
        # surplus beyond `learn_gate_c` is credited to that air, and the credit then
        # decays as slowly as the slowest parked pack cools. Heat that keeps coming (a
        # short) outlasts it.
        if self.unseen_ > 0.0:
            self.unseen_ *= math.exp(-dt / p.unseen_tau_s)
        surplus = temp - self.ambient_ - explained - p.learn_gate_c
        if current < -p.rest_current_a and surplus > self.unseen_:
            self.unseen_ = min(surplus, p.unseen_max_c)
        excess = temp - self.ambient_ - explained - self.unseen_
        self.excess_ = excess

        step = min(dt, p.max_sample_weight_s)
        if dt > p.max_gap_s and not working:
            # Back after a gap, at rest: whatever the air did meanwhile, this is it now.
            self.ambient_ = temp - explained
        tau = p.ambient_use_tau_s if working else p.ambient_rest_tau_s
        move = ewma_alpha(step, tau) * (temp - explained - self.unseen_ - self.ambient_)
        # The air is seen only at rest, and it never warms faster than on a hot afternoon:
        # heat from a fault outruns the estimate. While the pack works (hours of
        # charging) or looks suspiciously warm, it may follow even more slowly.
        if working:
            air_rate = p.ambient_busy_rate_c_per_h
        elif excess >= p.learn_gate_c:
            air_rate = p.ambient_suspect_rate_c_per_h
        else:
            air_rate = p.ambient_max_rate_c_per_h
        limit = air_rate * dt / 3600.0
        self.ambient_ += min(max(move, -limit), limit)
        if abs(excess) < p.learn_gate_c and working:
            keep = math.exp(-step / p.gain_tau_s)
            rise = temp - self.ambient_ - self.unseen_
            self.s_cc_ = self.s_cc_ * keep + hc * hc
            self.s_cd_ = self.s_cd_ * keep + hc * hd
            self.s_dd_ = self.s_dd_ * keep + hd * hd
            self.s_cy_ = self.s_cy_ * keep + hc * rise
            self.s_dy_ = self.s_dy_ * keep + hd * rise

        if excess < p.overheat_onset_c:
            self.calm_at_ = ts
        if self.latched_:
            self.peak_excess_ = max(self.peak_excess_, excess)
            # Over only after a sustained return to normal, so a short that flickers
            # does not open a ticket per episode.
            if excess < p.overheat_clear_c:
                if self.clear_since_ is None:
                    self.clear_since_ = ts
                if ts - self.clear_since_ >= p.overheat_clear_hold_s:
                    self.latched_ = False
                    self.clear_since_ = None
                    self.peak_excess_ = 0.0
            else:
                self.clear_since_ = None
            return None
        previous_hot = self.hot_since_
        if excess >= p.overheat_excess_c:
            if self.hot_since_ is None:
                self.hot_since_ = ts
        else:
            self.hot_since_ = None
        if ts - self.first_ts_ < p.overheat_warmup_s:
            return None
        held = self.hot_since_ is not None and ts - self.hot_since_ >= p.overheat_confirm_s
        sharp = excess >= p.overheat_immediate_c and previous_hot is not None
        if not (held or sharp):
            return None
        self.latched_ = True
        self.peak_excess_ = excess
        return self._overheat_anomaly(reading, temp, current, explained, excess)

    def _overheat_anomaly(
        self, reading: Reading, temp: float, current: float, explained: float, excess: float
    ) -> Anomaly:
        p = self.profile
        ts = reading.ts
        onset = self.calm_at_ if self.calm_at_ is not None else ts
        state = "resting"
        if current > p.rest_current_a:
            state = "charging"
        elif current < -p.rest_current_a:
            state = "discharging"
        ambient = self.ambient_ if self.ambient_ is not None else temp
        expected = ambient + explained
        quiet = self.heat_charge_ + self.heat_discharge_ < 0.01  # nothing explains the heat
        k_c, k_d = self.gains()
        confidence = (
            0.7
            + 0.15 * min((excess - p.overheat_excess_c) / p.overheat_excess_c, 1.0)
            + (0.1 if quiet else 0.0)
        )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"Pack at {temp:.1f} °C while {state} at {current:+.2f} A: "
                f"{excess:.1f} K above the {expected:.1f} °C its surroundings and current "
                f"explain (internal short or failing cell suspected)."
            ),
            evidence={
                "metric": "temp_c",
                "observed": temp,
                "baseline": round(expected, 2),
                "delta": round(excess, 2),
                "ambient_estimate_c": round(ambient, 2),
                "explained_rise_c": round(explained, 2),
                "current_a": current,
                "pack_state": state,
                "soc_pct": reading.get("soc_pct"),
                "voltage_v": reading.get("voltage_v"),
                "gain_charge_k_per_c2": round(k_c, 2),
                "gain_discharge_k_per_c2": round(k_d, 2),
                "filtered_c_rate2_charge": round(self.heat_charge_, 4),
                "filtered_c_rate2_discharge": round(self.heat_discharge_, 4),
                "unseen_surroundings_c": round(self.unseen_, 2),
                "threshold_c": p.overheat_excess_c,
                "window_start": onset,
                "hot_since": self.hot_since_,
                "window_end": ts,
            },
        )


class WearDetector(_Detector):
    """Capacity is fading, significantly, and will cross end of life soon.

    Each time the gauge re-learns its full-charge capacity the detector adds a state-of-
    health sample (full charge / design) to two robust, forgetting trends — against days
    and against the cycle count — and projects when the trend crosses `eol_soh`. It opens
    a ticket when the fade is significant (slope `wear_slope_t` standard errors faster
    than the fastest normal ageing, `normal_fade_per_day`) and the projected crossing
    is within `wear_horizon_days` (or already past). A jump up after a rest neither
    alarms nor counts as recovery (the trends down-weight samples above them); a new
    pack (cycle count reset, or capacity back up) re-arms.

    >>> from domain import Reading
    >>> detector = WearDetector()
    >>> found = []
    >>> for day in range(0, 60):  # 88 %, fading 0.4 % a day from day 20
    ...     soh = 0.88 - 0.004 * max(day - 20, 0) + 0.002 * (-1) ** day
    ...     metrics = {"full_charge_capacity_mah": round(5200 * soh), "cycle_count": 400 + day,
    ...                "design_capacity_mah": 5200}
    ...     anomaly = detector.update(Reading("b-1", DAY_S * day, day, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.detected_at / DAY_S) for a in found]
    [('BATTERY_WEAR', 39.0)]
    >>> found[0].onset_at / DAY_S, round(found[0].evidence["days_to_eol"])  # truly 26 left
    (20.0, 33)
    """

    fault_code = FaultCode.BATTERY_WEAR
    severity = Severity.MEDIUM
    _state_fields = (
        "last_ts",
        "last_fcc",
        "last_cycles",
        "first_sample_ts",
        "by_day",
        "by_cycle",
        "anchor_day",
        "anchor_level",
        "latched",
    )

    def __init__(self, profile: BatteryProfile | None = None) -> None:
        super().__init__(profile)
        self.last_ts_: float | None = None
        self.last_fcc_: float | None = None
        self.last_cycles_: float | None = None
        self.first_sample_ts_: float | None = None
        self.by_day_: dict[str, Any] | None = None  # FadeTrend states
        self.by_cycle_: dict[str, Any] | None = None
        self.anchor_day_: float | None = None  # last day the level matched normal ageing
        self.anchor_level_: float | None = None
        self.latched_ = False

    def _trends(self) -> tuple[FadeTrend, FadeTrend]:
        p = self.profile
        common = {"min_scale": p.wear_min_scale}
        by_day = FadeTrend(half_life=p.wear_half_life_days, **common)
        by_cycle = FadeTrend(half_life=p.wear_half_life_cycles, **common)
        if self.by_day_ is not None:
            by_day = FadeTrend.from_state(self.by_day_, half_life=p.wear_half_life_days, **common)
        if self.by_cycle_ is not None:
            by_cycle = FadeTrend.from_state(
                self.by_cycle_, half_life=p.wear_half_life_cycles, **common
            )
        return by_day, by_cycle

    def _reset(self) -> None:
        self.first_sample_ts_ = None
        self.by_day_ = self.by_cycle_ = None
        self.anchor_day_ = self.anchor_level_ = None
        self.latched_ = False

    def update(self, reading: Reading) -> Anomaly | None:
        """Learn from one reading; return an anomaly when wear will soon end the pack's life."""
        p = self.profile
        ts = reading.ts
        if self.last_ts_ is not None and ts <= self.last_ts_:
            return None
        fcc = reading.get("full_charge_capacity_mah")
        design = reading.get("design_capacity_mah")
        cycles = reading.get("cycle_count")
        if fcc is None or design is None or cycles is None or design <= 0 or fcc <= 0:
            return None
        self.last_ts_ = ts
        replaced = self.last_cycles_ is not None and cycles < self.last_cycles_
        if self.last_fcc_ is not None and fcc - self.last_fcc_ > p.wear_rearm_jump * design:
            replaced = True
        self.last_cycles_ = cycles
        if replaced:
            self._reset()
        elif fcc == self.last_fcc_:
            return None  # no new capacity learned
        self.last_fcc_ = fcc
        soh = fcc / design
        day = ts / DAY_S
        by_day, by_cycle = self._trends()
        by_day.update(day, soh)
        by_cycle.update(cycles, soh)
        self.by_day_, self.by_cycle_ = by_day.state(), by_cycle.state()
        if self.first_sample_ts_ is None:
            self.first_sample_ts_ = ts
        level = by_day.level(day)
        if self.anchor_day_ is None or self.anchor_level_ is None:
            self.anchor_day_, self.anchor_level_ = day, level
        else:
            # Onset: the last time the level was where normal ageing from the previous
            # such time would have put it.
            normal = self.anchor_level_ - p.normal_fade_per_day * (day - self.anchor_day_)
            if level >= normal:
                self.anchor_day_, self.anchor_level_ = day, level
        if self.latched_:
            return None
        if (
            by_day.samples < p.wear_min_samples
            or ts - self.first_sample_ts_ < p.wear_min_span_days * DAY_S
        ):
            return None
        proj = by_day.project(p.eol_soh, z=p.wear_z)
        past_eol = proj.level <= p.eol_soh
        if not past_eol and (
            _excess_fade_t(proj, p) > -p.wear_slope_t or proj.central - proj.x > p.wear_horizon_days
        ):
            return None
        self.latched_ = True
        return self._wear_anomaly(reading, proj, by_cycle, soh, cycles)

    def _wear_anomaly(
        self, reading: Reading, proj: EolProjection, by_cycle: FadeTrend, soh: float, cycles: float
    ) -> Anomaly:
        p = self.profile
        ts = reading.ts
        per_cycle = by_cycle.slope if by_cycle.samples >= 3 else None
        cycles_left = None
        if by_cycle.samples >= 3:
            cyc = by_cycle.project(p.eol_soh, z=p.wear_z)
            cycles_left = max(cyc.central - cyc.x, 0.0) if math.isfinite(cyc.central) else None

        def when(x: float) -> float | None:
            return round(x * DAY_S, 1) if math.isfinite(x) else None

        early, central, late = (max(d, 0.0) for d in proj.remaining())
        onset = self.anchor_day_ * DAY_S if self.anchor_day_ is not None else ts
        onset = min(onset, ts)
        confidence = (
            0.6
            + 0.2 * min((-_excess_fade_t(proj, p) - p.wear_slope_t) / p.wear_slope_t, 1.0)
            + 0.15 * min(max(1.0 - central / p.wear_horizon_days, 0.0), 1.0)
        )
        summary = (
            f"Capacity at {proj.level:.0%} of design and fading {-proj.slope:.2%} a day: "
            f"end of life ({p.eol_soh:.0%}) projected in {central:.0f} days "
            f"({early:.0f}-{late:.0f})."
            if math.isfinite(late)
            else f"Capacity at {proj.level:.0%} of design and fading {-proj.slope:.2%} a day: "
            f"end of life ({p.eol_soh:.0%}) projected in {central:.0f} days (at the "
            f"earliest {early:.0f})."
        )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=summary,
            evidence={
                "metric": "full_charge_capacity_mah",
                "observed": reading.get("full_charge_capacity_mah"),
                "design_capacity_mah": reading.get("design_capacity_mah"),
                "soh_pct": round(100 * proj.level, 2),
                "soh_reported_pct": round(100 * soh, 2),
                "eol_soh_pct": round(100 * p.eol_soh, 1),
                "fade_pct_per_day": round(-100 * proj.slope, 4),
                "fade_pct_per_cycle": None if per_cycle is None else round(-100 * per_cycle, 4),
                "normal_fade_pct_per_day": round(100 * p.normal_fade_per_day, 4),
                "slope_t": round(proj.slope_t, 2),
                "excess_fade_t": round(_excess_fade_t(proj, p), 2),
                "cycle_count": cycles,
                "cycles_to_eol": None if cycles_left is None else round(cycles_left, 1),
                "days_to_eol": round(central, 1),
                "days_to_eol_low": round(early, 1),
                "days_to_eol_high": round(late, 1) if math.isfinite(late) else None,
                "projected_eol_at": when(proj.central),
                "projected_eol_earliest": when(proj.earliest),
                "projected_eol_latest": when(proj.latest),
                "band_z": p.wear_z,
                "samples": proj.samples,
                "window_start": onset,
                "window_end": ts,
            },
        )


def _excess_fade_t(proj: EolProjection, profile: BatteryProfile) -> float:
    """How many standard errors the fade runs faster than the fastest normal ageing.

    A healthy pack fades too (SEI growth, calendar age); only a fade significantly
    beyond what a healthy pack of this kind does is a bad cell.
    """
    if proj.slope_se <= 0 or not math.isfinite(proj.slope_se):
        return 0.0
    return (proj.slope + profile.normal_fade_per_day) / proj.slope_se


BATTERY_DETECTORS = DetectorSet(
    profile_type=BatteryProfile,
    detectors={
        "overheat": OverheatDetector,
        "wear": WearDetector,
    },
)
