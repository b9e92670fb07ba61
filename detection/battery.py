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

import numpy as np

from detection.detector_base import ProfiledDetector, ewma_alpha
from detection.detector_set import DetectorSet
from detection.fade_history import CapacityHistory
from detection.knee_fade import KneeFadeModel
from detection.profiles import BatteryProfile
from detection.prognosis import EolProjection, FadeFit
from detection.wear_report import wear_report
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
        # A design capacity under 1 mAh is no battery's (a corrupt field): use the default.
        capacity_ah = design / 1000.0 if design is not None and design >= 1.0 else None
        rate = current / (capacity_ah or p.default_capacity_ah)
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
    """Capacity is fading, significantly, and will cross end of life within the horizon.

    Each time the gauge re-learns its full-charge capacity the detector records a state-
    of-health sample (full charge / design) against the pack's cycle count (against days
    when it reports none) and fits the knee fade model (`detection.knee_fade`): robust
    to capacity regenerating after rests, bending where fade speeds up. It projects when
    state of health crosses `eol_soh`, with a band calibrated on real cells, and opens a
    ticket when the fade is significant (slope `wear_slope_t` standard errors faster than
    the fastest normal ageing) and the whole band lies within the horizon
    (`wear_horizon_cycles`, or `wear_horizon_days` on the day axis), or end of life has
    come. `projection()` reads the latest projection at any time. A new pack (cycle
    count reset, or capacity back up) re-arms.

    >>> from domain import Reading
    >>> detector = WearDetector()
    >>> found = []
    >>> for day in range(0, 60):  # 88 %, fading 0.4 % a cycle from cycle 420, one a day
    ...     soh = 0.88 - 0.004 * max(day - 20, 0) + 0.002 * (-1) ** day
    ...     metrics = {"full_charge_capacity_mah": round(5200 * soh), "cycle_count": 400 + day,
    ...                "design_capacity_mah": 5200}
    ...     anomaly = detector.update(Reading("b-1", DAY_S * day, day, metrics))
    ...     found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.evidence["cycle_count"]) for a in found]
    [('BATTERY_WEAR', 455)]
    >>> e = found[0].evidence  # truly at cycle 465
    >>> e["projected_eol_cycle"], e["projected_eol_cycle_low"], e["projected_eol_cycle_high"]
    (464.6, 458.0, 487.0)
    """

    fault_code = FaultCode.BATTERY_WEAR
    severity = Severity.MEDIUM
    _state_fields = (
        "last_ts",
        "last_fcc",
        "last_cycles",
        "axis",
        "first_sample_ts",
        "first_sample_cycles",
        "history",
        "projection",
        "anchor_day",
        "anchor_level",
        "latched",
    )

    def __init__(self, profile: BatteryProfile | None = None) -> None:
        super().__init__(profile)
        self.last_ts_: float | None = None
        self.last_fcc_: float | None = None
        self.last_cycles_: float | None = None
        self.axis_: str | None = None  # "cycle" or "day", fixed per pack
        self.first_sample_ts_: float | None = None
        self.first_sample_cycles_: float | None = None
        self.history_: dict[str, Any] | None = None  # CapacityHistory state
        self.projection_: dict[str, Any] | None = None  # EolProjection.as_dict()
        self.anchor_day_: float | None = None  # last day the level matched normal ageing
        self.anchor_level_: float | None = None
        self.latched_ = False
        self._fit: tuple[int, FadeFit] | None = None  # the latest fit, by history count

    def projection(self) -> EolProjection | None:
        """The latest end-of-life projection (on `axis`), or None before there is one."""
        return None if self.projection_ is None else EolProjection.from_dict(self.projection_)

    @property
    def axis(self) -> str | None:
        """What the projection's ages count: "cycle" or "day" (None before any sample)."""
        return self.axis_

    def cycles_per_day(self) -> float | None:
        """The pack's own pace, from its first sample to its latest (None if unknown)."""
        if (
            self.first_sample_ts_ is None
            or self.first_sample_cycles_ is None
            or self.last_ts_ is None
            or self.last_cycles_ is None
        ):
            return None
        days = (self.last_ts_ - self.first_sample_ts_) / DAY_S
        cycles = self.last_cycles_ - self.first_sample_cycles_
        return cycles / days if days >= 1.0 and cycles > 0 else None

    def fade_fit(self) -> FadeFit | None:
        """The fade model fitted to the capacity history (None before three samples)."""
        history = self._history()
        if len(history) < 3:
            return None
        if self._fit is not None and self._fit[0] == history.count:
            return self._fit[1]
        p = self.profile
        fit = _model(p).fit(
            np.asarray(history.ages()),
            np.asarray(history.levels()),
            np.asarray(history.weights()),
            threshold=p.eol_soh,
        )
        self._fit = (history.count, fit)
        return fit

    def _history(self) -> CapacityHistory:
        size = self.profile.wear_history_samples
        if self.history_ is None:
            return CapacityHistory(max_samples=size)
        return CapacityHistory.from_state(self.history_, max_samples=size)

    def _reset(self) -> None:
        self._fit = None
        self.axis_ = None
        self.first_sample_ts_ = self.first_sample_cycles_ = None
        self.history_ = self.projection_ = None
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
        if fcc is None or design is None or design < 1.0 or fcc <= 0:
            return None
        self.last_ts_ = ts
        replaced = (
            cycles is not None and self.last_cycles_ is not None and cycles < self.last_cycles_
        )
        if self.last_fcc_ is not None and fcc - self.last_fcc_ > p.wear_rearm_jump * design:
            replaced = True
        if cycles is not None:
            self.last_cycles_ = cycles
        if replaced:
            self._reset()
        elif fcc == self.last_fcc_:
            return None  # no new capacity learned
        self.last_fcc_ = fcc
        if self.axis_ is None:
            self.axis_ = "cycle" if cycles is not None else "day"
        if self.axis_ == "cycle" and cycles is None:
            return None  # a cycle-counting pack's sample without its cycle count: no age
        age = cycles if self.axis_ == "cycle" and cycles is not None else ts / DAY_S
        history = self._history()
        history.add(age, fcc / design)
        self.history_ = history.state()
        if self.first_sample_ts_ is None:
            self.first_sample_ts_, self.first_sample_cycles_ = ts, cycles
        fit = self.fade_fit()
        if fit is None:
            return None
        proj = fit.projection(p.eol_soh, shape_sd=p.wear_shape_sd, z=p.wear_z)
        self.projection_ = proj.as_dict()
        self._follow_onset(ts / DAY_S, proj.level)
        if self.latched_:
            return None
        if (
            history.count < p.wear_min_samples
            or ts - self.first_sample_ts_ < p.wear_min_span_days * DAY_S
        ):
            return None
        horizon = p.wear_horizon_cycles if self.axis_ == "cycle" else p.wear_horizon_days
        past_eol = proj.level <= p.eol_soh
        significant = self._excess_fade_t(proj) <= -p.wear_slope_t
        if not (past_eol or significant) or proj.latest - proj.x > horizon:
            return None
        self.latched_ = True
        onset = self.anchor_day_ * DAY_S if self.anchor_day_ is not None else ts
        return self._anomaly(
            reading,
            **wear_report(
                reading,
                proj,
                profile=p,
                axis=self.axis_,
                horizon=horizon,
                cycles_per_day=self.cycles_per_day(),
                excess_fade_t=self._excess_fade_t(proj),
                onset_at=min(onset, ts),
            ),
        )

    def _follow_onset(self, day: float, level: float) -> None:
        """Onset: the last day the level was where normal ageing from the previous such
        day would have put it."""
        if self.anchor_day_ is None or self.anchor_level_ is None:
            self.anchor_day_, self.anchor_level_ = day, level
            return
        normal = self.anchor_level_ - self.profile.normal_fade_per_day * (day - self.anchor_day_)
        if level >= normal:
            self.anchor_day_, self.anchor_level_ = day, level

    def _excess_fade_t(self, proj: EolProjection) -> float:
        """How many standard errors the fade runs faster than the fastest normal ageing.

        A healthy pack fades too (SEI growth, calendar age); only a fade significantly
        beyond what a healthy pack of this kind does is a bad cell.
        """
        p = self.profile
        normal = p.normal_fade_per_cycle if self.axis_ == "cycle" else p.normal_fade_per_day
        if proj.slope_se <= 0 or not math.isfinite(proj.slope_se):
            return 0.0
        return (proj.slope + normal) / proj.slope_se


def _model(profile: BatteryProfile) -> KneeFadeModel:
    return KneeFadeModel(
        regen_weight=profile.wear_regen_weight,
        memory_ratio=profile.wear_memory_ratio,
        min_memory=profile.wear_min_memory,
        min_post_knee=profile.wear_min_post_knee,
        knee_candidates=profile.wear_knee_candidates,
        min_scale=profile.wear_min_scale,
    )


BATTERY_DETECTORS = DetectorSet(
    profile_type=BatteryProfile,
    detectors={
        "overheat": OverheatDetector,
        "wear": WearDetector,
    },
)
