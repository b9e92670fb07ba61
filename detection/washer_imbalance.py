"""WASHER_IMBALANCE: a suspension that no longer damps the tub."""

from __future__ import annotations

import math
from typing import Any

from detection.profiles import WasherProfile
from detection.washer_base import Phase, WasherDetector, log_floor
from domain import Anomaly, FaultCode, Reading, Severity


class ImbalanceDetector(WasherDetector):
    """Spin after spin, the tub shakes far harder passing through its suspension resonance
    than at full speed: the damping is gone (a broken shock absorber, worn friction pads).

    The amplification (spin-up peak over vibration at speed, in the same spin) does not
    depend on how well the load balanced, so heavy or bulky loads that the controller has
    to redistribute, spin slower or not at all do not count; spins that never reach speed
    count only if they shook hard. Confirmed when most of the last few cycles were rough.

    >>> from domain import Reading
    >>> detector = ImbalanceDetector()
    >>> spin = [(90, 0.1), (300, 2.4), (1000, 0.2), (1000, 0.22), (1000, 0.21), (200, 1.9)]
    >>> found, t = [], 0.0
    >>> for cycle in range(3):  # three cycles, each: wash, spin, idle
    ...     for phase, (rpm, g) in [(2, (40, 0.1))] * 3 + [(4, s) for s in spin] + [(0, (0, 0.01))]:
    ...         t += 60.0
    ...         metrics = {"cycle_phase": phase, "drum_rpm": rpm, "vibration_g": g}
    ...         anomaly = detector.update(Reading("w-1", t, int(t // 60), metrics))
    ...         found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.detected_at / 60, a.evidence["cycles_rough"]) for a in found]
    [('WASHER_IMBALANCE', 30.0, 3)]
    """

    fault_code = FaultCode.WASHER_IMBALANCE
    severity = Severity.MEDIUM
    _state_fields = (
        "cycle_start",
        "spin_peak",
        "spin_top",
        "speed_sum",
        "speed_n",
        "spins_judged",
        "spins_rough",
        "spins_stalled",
        "cycle_amplification",
        "cycle_peak",
        "cycle_at_speed",
        "window",
        "normal_amplification",
        "latched",
        "smooth_run",
    )

    def __init__(self, profile: WasherProfile | None = None) -> None:
        super().__init__(profile)
        self.cycle_start_: float | None = None
        self.spin_peak_ = 0.0  # spin-up vibration peak of the current spin
        self.spin_top_ = 0.0  # fastest report of the current spin
        self.speed_sum_ = 0.0  # vibration at speed in the current spin: sum and count
        self.speed_n_ = 0
        self.spins_judged_ = 0  # this cycle
        self.spins_rough_ = 0
        self.spins_stalled_ = 0  # never got to speed, shaking hard
        self.cycle_amplification_ = 0.0  # the largest of this cycle's judged spins
        self.cycle_peak_ = 0.0
        self.cycle_at_speed_ = 0.0
        # The last cycles judged: [start_ts, rough, amplification, peak_g, at_speed_g, stalled].
        self.window_: list[list[Any]] = []
        self.normal_amplification_: float | None = None  # learned on smooth spins (log)
        self.latched_ = False
        self.smooth_run_ = 0

    def _forget(self) -> None:
        self.cycle_start_ = None
        self._reset_spin()
        self._reset_cycle()

    def _reset_spin(self) -> None:
        self.spin_peak_, self.spin_top_, self.speed_sum_, self.speed_n_ = 0.0, 0.0, 0.0, 0

    def _reset_cycle(self) -> None:
        self.spins_judged_ = self.spins_rough_ = self.spins_stalled_ = 0
        self.cycle_amplification_ = self.cycle_peak_ = self.cycle_at_speed_ = 0.0

    def _step(self, reading: Reading, phase: int, rpm: float) -> Anomaly | None:
        if self.prev_phase_ == Phase.SPIN and phase != Phase.SPIN:
            self._end_spin()
        if phase == Phase.IDLE:
            return self._end_cycle(reading) if self.cycle_start_ is not None else None
        if self.cycle_start_ is None:
            self.cycle_start_ = reading.ts
        if phase != Phase.SPIN:
            return None
        vibration = reading.get("vibration_g")
        if vibration is None:
            return None
        self.spin_top_ = max(self.spin_top_, rpm)
        if self._at_speed(phase, rpm):
            self.speed_sum_ += vibration
            self.speed_n_ += 1
        else:  # speeding up or braking: through the resonance
            self.spin_peak_ = max(self.spin_peak_, vibration)
        return None

    def _end_spin(self) -> None:
        p = self.profile
        peak = self.spin_peak_
        if self.speed_n_:
            at_speed = max(self.speed_sum_ / self.speed_n_, p.vibration_floor_g)
            amplification = peak / at_speed
            rough = amplification >= p.imbalance_ratio and peak >= p.imbalance_min_peak_g
            self.spins_judged_ += 1
            self.spins_rough_ += int(rough)
            if not rough:
                a = log_floor(amplification)
                prior = self.normal_amplification_
                self.normal_amplification_ = a if prior is None else prior + 0.2 * (a - prior)
            if amplification >= self.cycle_amplification_:
                self.cycle_amplification_ = amplification
                self.cycle_at_speed_ = at_speed
            self.cycle_peak_ = max(self.cycle_peak_, peak)
        elif self.spin_top_ < p.plateau_min_rpm / 2 and peak >= p.imbalance_abort_peak_g:
            # Never got past the resonance, shaking hard on the way: aborted spin-ups.
            self.spins_judged_ += 1
            self.spins_rough_ += 1
            self.spins_stalled_ += 1
            self.cycle_peak_ = max(self.cycle_peak_, peak)
        self._reset_spin()

    def _end_cycle(self, reading: Reading) -> Anomaly | None:
        p = self.profile
        start = self.cycle_start_
        self.cycle_start_ = None
        judged, rough_spins = self.spins_judged_, self.spins_rough_
        figures = [
            self.cycle_amplification_,
            self.cycle_peak_,
            self.cycle_at_speed_,
            self.spins_stalled_,
        ]
        self._reset_cycle()
        if not judged or start is None:
            return None
        rough = 2 * rough_spins >= judged
        self.window_.append([start, rough, *figures])
        del self.window_[: -p.imbalance_window_cycles]
        if self.latched_:
            self.smooth_run_ = 0 if rough else self.smooth_run_ + 1
            if self.smooth_run_ >= p.imbalance_clear_cycles:
                self.latched_ = False
                self.window_ = []
            return None
        rough_cycles = [c for c in self.window_ if c[1]]
        if len(rough_cycles) < p.imbalance_confirm_cycles:
            return None
        self.latched_ = True
        self.smooth_run_ = 0
        onset = rough_cycles[0][0]
        amplifications = sorted(c[2] for c in rough_cycles if c[2] > 0)
        # Cycles whose spins never got to speed have no amplification to show.
        amplification = amplifications[len(amplifications) // 2] if amplifications else None
        peak = max(c[3] for c in rough_cycles)
        at_speed = [c[4] for c in rough_cycles if c[4] > 0]
        stalled = sum(int(c[5]) for c in rough_cycles)
        normal = (
            None if self.normal_amplification_ is None else math.exp(self.normal_amplification_)
        )
        excess = 1.0 if amplification is None else amplification / p.imbalance_ratio - 1.0
        confidence = (
            0.6
            + 0.1 * (len(rough_cycles) - p.imbalance_confirm_cycles + 1)
            + 0.15 * min(excess, 1.0)
        )
        how = (
            "with spins aborted before full speed"
            if amplification is None
            else f"{amplification:.0f}x the vibration at full speed"
        )
        return self._anomaly(
            reading,
            onset_at=onset,
            confidence=confidence,
            summary=(
                f"Spin-ups shake the cabinet up to {peak:.1f} g, {how}, in {len(rough_cycles)} "
                f"of the last {len(self.window_)} cycles: the suspension is no longer damping "
                "the tub."
            ),
            evidence={
                "metric": "vibration_g",
                "baseline": None if normal is None else round(normal, 2),
                "observed": None if amplification is None else round(amplification, 2),
                "delta": (
                    None
                    if normal is None or amplification is None
                    else round(amplification - normal, 2)
                ),
                "quantity": "resonance amplification (spin-up peak / vibration at speed)",
                "threshold": p.imbalance_ratio,
                "spin_up_peak_g": round(peak, 2),
                "at_speed_g": round(sorted(at_speed)[len(at_speed) // 2], 3) if at_speed else None,
                "cycles_rough": len(rough_cycles),
                "cycles_judged": len(self.window_),
                "spins_never_at_speed": stalled,
                "window_start": onset,
                "window_end": reading.ts,
            },
        )
