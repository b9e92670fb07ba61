"""The fridge profile: what normal looks like for a fridge-freezer, and what is a fault."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class FridgeProfile:
    """What normal looks like for a domestic fridge-freezer, and how far from it is a fault.

    Normal life, for scale: the compressor cycles 25-45 % of the time (up to ~85 % over a
    few hours after warm groceries go in), a compressor-off stretch lasts up to ~95 min
    (an off period running into a 20-40 min defrost), door openings spike the cabinet
    sensor a few degrees for minutes, and a defrost warms the cabinet 1-2 °C.
    """

    # What a maker states, which a device-model catalog entry may set (`ratings`).
    # (`domain.device_models.RATINGS` name -> profile field)
    RATINGS: ClassVar[dict[str, str]] = {"default_setpoint_c": "default_setpoint_c"}

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
    # Not lost capacity: a freezer this far below its own normal is overcooled, so the
    # circuit delivers its capacity and the cabinet is warm from an extra heat load (a
    # leaking door seal, which `seal_*` below is about), not from a refrigerant leak.
    drift_overcooled_freezer_c: float = 3.0
    # Working harder for the same cabinet: capacity fading before the food warms. The
    # compressor's share of time on (smoothed over hours, so a restocking or a warm
    # afternoon passes) has risen well above the device's own normal, using up at least
    # this share of the spare capacity it had...
    drift_work_tau_s: float = 6 * HOUR_S
    drift_work_headroom: float = 0.5
    drift_work_ratio: float = 1.5  # ...and at least this many times its normal share...
    drift_work_warmup_s: float = 24 * HOUR_S  # ...judged only after a day of history...
    drift_work_confirm_s: float = 12 * HOUR_S  # ...for this long...
    # ...while the door opens no more than usual (more openings are more heat load, not
    # less capacity) and the freezer is not overcooled (an extra load on the cabinet).
    drift_work_door_rise: float = 0.05

    # Door seal leak: kitchen air seeping past the gasket is an extra heat load on the
    # cabinet. The cabinet thermostat keeps the compressor running longer to hold its
    # setpoint, and since one evaporator serves both compartments the freezer is
    # overcooled: it sits well below its own normal while the cabinet holds. A circuit
    # losing capacity (refrigerant leak) or a stopped compressor warms the freezer
    # instead. Warm groceries do the same for some hours, so the condition must outlast
    # a restocking (their heat is out of the food in well under a day).
    seal_fast_tau_s: float = 6 * HOUR_S  # smooths compressor cycles and defrosts
    seal_baseline_tau_s: float = 72 * HOUR_S  # the device's own normal, while calm
    seal_warmup_s: float = 24 * HOUR_S  # a whole day of history before any verdict
    seal_freezer_drop_c: float = 3.6  # freezer below its normal by this much...
    seal_duty_rise: float = 0.0  # ...the compressor running at least as much as usual...
    # ...and the cabinet not far above setpoint (a big leak in a hot kitchen can outrun
    # the cabinet's share of the cooling, but the cabinet still gets cooled)...
    seal_cabinet_margin_c: float = 4.0
    seal_confirm_s: float = 24 * HOUR_S  # ...for this long
    # Onset estimate: a CUSUM (K h) of the freezer below its normal less this allowance;
    # the episode began when it last stood at zero (the baseline learns only then).
    seal_onset_allowance_c: float = 1.0
    seal_clear_drop_c: float = 1.5  # episode over once the freezer is back within this...
    seal_clear_hold_s: float = 12 * HOUR_S  # ...for this long

    # Freezer readings outside this range come from a broken sensor, not the freezer.
    freezer_valid_min_c: float = -37.0
    freezer_valid_max_c: float = 20.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)
