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
    count only if they shook far harder than this washer's normal spin-ups. Spins are
    found by the drum's speed as well as the phase (firmware reports phases at different
    times). Each washer's normal amplification is learned from its first spins, and
    nothing is judged before. Confirmed when most of the last few cycles were rough.

    >>> from domain import Reading
    >>> detector = ImbalanceDetector()
    >>> def spin(peak):  # spin-up through resonance, at speed, braking
    ...     return [(90, 0.1), (300, peak), (1000, 0.2), (1000, 0.22), (1000, 0.21), (200, 0.3)]
    >>> found, t = [], 0.0
    >>> for cycle in range(9):  # six normal cycles (learned), then a broken damper
    ...     peak = 0.5 if cycle < 6 else 2.4
    ...     for phase, (rpm, g) in [(2, (40, 0.1))] * 3 + [(4, s) for s in spin(peak)] + [
    ...         (0, (0, 0.01))
    ...     ]:
    ...         t += 60.0
    ...         metrics = {"cycle_phase": phase, "drum_rpm": rpm, "vibration_g": g}
    ...         anomaly = detector.update(Reading("w-1", t, int(t // 60), metrics))
    ...         found += [anomaly] if anomaly else []
    >>> [(a.fault_code.value, a.detected_at / 60, a.evidence["cycles_rough"]) for a in found]
    [('WASHER_IMBALANCE', 90.0, 3)]
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
        "learned_spins",
        "learned_peaks",
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
        self.normal_amplification_: float | None = None  # this washer's (log), once learned
        self.learned_spins_: list[float] = []  # its first spins' log amplification...
        self.learned_peaks_: list[float] = []  # ...and spin-up peaks (g)
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
        if self._spin_ended(phase, rpm):
            self._end_spin()
        if phase == Phase.IDLE:
            return self._end_cycle(reading) if self.cycle_start_ is not None else None
        if self.cycle_start_ is None:
            self.cycle_start_ = reading.ts
        if not self._spinning(phase, rpm):
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
        learned = self.normal_amplification_ is not None
        if self.speed_n_:
            at_speed = max(self.speed_sum_ / self.speed_n_, p.vibration_floor_g)
            amplification = peak / at_speed
            if not learned:
                # Getting to know this washer: no verdict, its spins are its normal.
                self._learn(amplification, peak)
                self._reset_spin()
                return
            assert self.normal_amplification_ is not None
            normal = math.exp(self.normal_amplification_)
            rough = (
                amplification >= p.imbalance_rel_ratio * normal and peak >= p.imbalance_min_peak_g
            )
            self.spins_judged_ += 1
            self.spins_rough_ += int(rough)
            if amplification >= self.cycle_amplification_:
                self.cycle_amplification_ = amplification
                self.cycle_at_speed_ = at_speed
            self.cycle_peak_ = max(self.cycle_peak_, peak)
        elif learned and self.spin_top_ < p.plateau_min_rpm / 2 and peak >= self._abort_peak():
            # Never got past the resonance, shaking far harder than it normally does on
            # the way: aborted spin-ups.
            self.spins_judged_ += 1
            self.spins_rough_ += 1
            self.spins_stalled_ += 1
            self.cycle_peak_ = max(self.cycle_peak_, peak)
        self._reset_spin()

    def _learn(self, amplification: float, peak: float) -> None:
        p = self.profile
        self.learned_spins_.append(round(log_floor(amplification), 5))
        self.learned_peaks_.append(round(peak, 4))
        if len(self.learned_spins_) >= p.imbalance_learn_spins:
            # Its smoother spins: a damper that fails in the first days must not teach
            # its own shaking as normal, and a healthy one's spins are all alike.
            ordered = sorted(self.learned_spins_)
            self.normal_amplification_ = ordered[len(ordered) // 4]

    def _abort_peak(self) -> float:
        """How hard a spin-up that never reached speed must shake to count: far above this
        washer's normal spin-up peak, and a real knock."""
        p = self.profile
        peaks = sorted(self.learned_peaks_)
        normal = peaks[len(peaks) // 2] if peaks else 0.0
        return max(p.imbalance_abort_rel_peak * normal, p.imbalance_min_peak_g)

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
        threshold = p.imbalance_rel_ratio * (normal or 1.0)
        excess = 1.0 if amplification is None else amplification / threshold - 1.0
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
                "threshold": round(threshold, 2),
                "spin_up_peak_g": round(peak, 2),
                "at_speed_g": round(sorted(at_speed)[len(at_speed) // 2], 3) if at_speed else None,
                "cycles_rough": len(rough_cycles),
                "cycles_judged": len(self.window_),
                "spins_never_at_speed": stalled,
                "window_start": onset,
                "window_end": reading.ts,
            },
        )
