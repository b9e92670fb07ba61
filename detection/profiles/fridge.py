"""The fridge profile: what normal looks like for a fridge-freezer, and what is a fault."""

from __future__ import annotations

from dataclasses import asdict, dataclass

HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class FridgeProfile:
    """What normal looks like for a domestic fridge-freezer, and how far from it is a fault.

    Normal life, for scale: the compressor cycles 25-45 % of the time (up to ~85 % over a
    few hours after warm groceries go in), a compressor-off stretch lasts up to ~95 min
    (an off period running into a 20-40 min defrost), door openings spike the cabinet
    sensor a few degrees for minutes, and a defrost warms the cabinet 1-2 °C.
    """

    # Used when a reading carries no `setpoint_c`.
    default_setpoint_c: float = 4.0
    # Readings further apart than this do not count as continuous observation.
    max_gap_s: float = 15 * 60.0
    # One sample never carries more EWMA weight than this much time, so a reading after
    # a long gap does not wipe out the history.
    max_sample_weight_s: float = 5 * 60.0

    # Compressor failure: off far longer than any off period or defrost, while the
    # cabinet is warm and warming.
    compressor_cabinet_tau_s: float = 10 * 60.0  # smooths door spikes off the cabinet
    compressor_min_off_run_s: float = 90 * 60.0
    compressor_warm_margin_c: float = 2.0  # above setpoint
    compressor_warm_hold_s: float = 25 * 60.0  # ...this long within the off run
    compressor_rise_c: float = 1.5  # above the coldest point of the off run
    compressor_clear_margin_c: float = 1.0  # back within this of setpoint: episode over

    # Temperature drift: the cabinet runs warm although the compressor barely stops.
    drift_cabinet_tau_s: float = 2 * HOUR_S
    drift_duty_tau_s: float = 2 * HOUR_S
    drift_baseline_tau_s: float = 24 * HOUR_S  # the device's own normal duty cycle
    drift_duty_prior: float = 0.35  # starting guess for a device never seen
    drift_margin_c: float = 1.0  # smoothed cabinet above setpoint by this much...
    drift_duty_threshold: float = 0.9  # ...while the compressor runs this share of time...
    drift_confirm_s: float = 2 * HOUR_S  # ...for this long
    # Onset estimate: a CUSUM (per hour) of the duty cycle above the device's own
    # baseline less this allowance; the episode began when it last stood at zero.
    drift_onset_allowance: float = 0.08
    drift_warmup_s: float = 4 * HOUR_S  # no verdict before this much history
    drift_clear_margin_c: float = 0.5  # episode over once the cabinet is back within this...
    drift_clear_duty: float = 0.7  # ...and the compressor cycles below this...
    drift_clear_hold_s: float = 6 * HOUR_S  # ...for this long
    setpoint_change_grace_s: float = 6 * HOUR_S  # pull-down after the dial was turned

    def as_dict(self) -> dict[str, float]:
        return asdict(self)
