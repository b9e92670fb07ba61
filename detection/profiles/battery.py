"""The battery-pack profile: what normal looks like for a robot-vacuum or e-bike pack, and how
far from it is a fault."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

HOUR_S = 3600.0
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class BatteryProfile:
    """What normal looks like for a Li-ion pack in a home appliance, and how far from it is
    a fault.

    Normal life, for scale: a pack warms by what its current's I²R heat explains — a few
    kelvin on charge, 5-20 K through a vacuum's run or an e-bike's hill climb — settling
    back to the air around it over 30-120 min; that air may warm 5-10 K on a hot day, over
    hours. Capacity fades 0.02-0.05 % per equivalent full cycle plus a little per day of
    calendar age; the gauge's full-charge capacity is re-learned after deep charges, with
    ~0.5 % scatter, reads higher on warm days, and jumps up a few percent after a long
    rest before falling back within a few cycles.
    """

    # What a maker states, which a device-model catalog entry may set (`ratings`): the
    # pack's design capacity, and the state of health its warranty calls end of life.
    # (`domain.device_models.RATINGS` name -> profile field)
    RATINGS: ClassVar[dict[str, str]] = {
        "design_capacity_ah": "default_capacity_ah",
        "end_of_life_soh": "eol_soh",
    }

    # Readings further apart than this do not count as continuous observation.
    max_gap_s: float = 15 * 60.0
    # One sample never carries more EWMA weight than this much time.
    max_sample_weight_s: float = 5 * 60.0

    # Overheat: temperature above what the air and the current's heat explain.
    rest_current_a: float = 0.05  # below this the pack is resting
    default_capacity_ah: float = 5.0  # for a reading without design_capacity_mah
    # Thermal time constants of the I² filters: a pack sheds heat faster while it works
    # (an e-bike's airflow) than parked (an e-bike pack: 60-120 min; a vacuum's: ~40).
    heat_tau_work_s: float = 35 * 60.0
    heat_tau_rest_s: float = 90 * 60.0
    # The air around the pack: a resting pack settles to it, so track it this fast...
    ambient_rest_tau_s: float = 30 * 60.0
    ambient_max_rate_c_per_h: float = 1.5  # ...but no faster than air warms on a hot day,
    ambient_suspect_rate_c_per_h: float = 0.5  # ...slower while the pack looks too warm;
    ambient_use_tau_s: float = 6 * HOUR_S  # a working pack (hours on charge) shows little
    ambient_busy_rate_c_per_h: float = 0.3  # of the air: follow slowly, at most this fast
    # Heating, in kelvin per squared C-rate at steady state (a vacuum's or an e-bike's
    # pack: 20-60); the prior is on the high side so that learning starts from above (a
    # pack heating more than it explains stops the learning), the cap is physics.
    gain_prior_k_per_c2: float = 60.0
    gain_max_k_per_c2: float = 80.0
    gain_min_k_per_c2: float = 5.0  # no pack sheds its I²R heat for nothing
    use_cooling_max: float = 3.5  # a ride's airflow cools at most this much better
    gain_prior_weight: float = 0.01  # ridge weight, in C⁴ (sums of squared filtered C²)
    gain_tau_s: float = 5 * DAY_S  # learned gains forget on this time scale
    learn_gate_c: float = 3.0  # learn (air, gains) only while the excess is within this
    # Warmth beyond `learn_gate_c` met while discharging (possibly outdoors, in air the
    # detector cannot see) is credited to the surroundings and forgotten on the slowest
    # time scale a parked pack cools on (an e-bike pack: up to ~2 h).
    unseen_tau_s: float = 150 * 60.0
    unseen_max_c: float = 20.0  # at most what a hot afternoon adds over the indoor air
    overheat_excess_c: float = 8.0  # excess temperature that is a fault...
    overheat_confirm_s: float = 10 * 60.0  # ...held this long...
    overheat_immediate_c: float = 15.0  # ...or this much excess, confirmed by two readings
    overheat_warmup_s: float = 3 * HOUR_S  # no verdict before this much history
    overheat_onset_c: float = 2.0  # the episode began when the excess last stood below this
    overheat_clear_c: float = 2.0  # episode over once the excess stays below this...
    overheat_clear_hold_s: float = 48 * HOUR_S  # ...for this long

    # Wear: the state-of-health trend against cycles (days when the pack reports no cycle
    # count), where it will cross end of life, and when that is worth a ticket.
    # End of life as a share of design capacity (NASA PCoE convention for its 2 Ah cells:
    # 1.4 Ah, 70 %; many makers use 80 %).
    eol_soh: float = 0.70
    wear_min_samples: int = 3  # capacity samples (one per re-learned full-charge capacity)
    wear_min_span_days: float = 5.0
    wear_slope_t: float = 3.0  # fade significant: slope at least this many standard errors
    # A ticket when the whole band of the projected crossing lies within this much age
    # ahead: five weeks (of daily cycling) to tell the customer, get a replacement pack to
    # them and book the visit. Cycles on the cycle axis, days on the day axis.
    wear_horizon_cycles: float = 35.0
    wear_horizon_days: float = 35.0
    wear_z: float = 1.645  # band of the projected crossing (90 % two-sided)
    # The fastest normal ageing (a young, busy pack: SEI growth plus calendar age; 0.02-
    # 0.05 % per equivalent full cycle): the fade must be significantly faster than
    # this, and the onset is where it departed.
    normal_fade_per_day: float = 0.0005
    normal_fade_per_cycle: float = 0.0005
    wear_rearm_jump: float = 0.1  # capacity rising this much (a new pack) re-arms the alarm
    # The fade model (`detection.knee_fade`): readings above the trend (regeneration after
    # a rest) weigh this much of those below; the past is forgotten with a half-life of
    # `wear_memory_ratio` projected remaining lives, at least `wear_min_memory` (axis
    # units); a knee needs `wear_min_post_knee` samples after it.
    wear_regen_weight: float = 0.1
    wear_memory_ratio: float = 1.0
    wear_min_memory: float = 5.0
    wear_min_post_knee: int = 8
    wear_knee_candidates: int = 32
    wear_history_samples: int = 128  # capacity samples kept (older ones merged in pairs)
    wear_min_scale: float = 0.0025  # the gauge's resolution, share of design
    # How far the future fade may run from the trend (log-normal sd of its rate): the
    # narrowest width at which the 90 % band holds the real crossing in at least 90 % of
    # the projections (from half of life on) on every NASA PCoE cell, B0006 deciding;
    # `faultline eval battery ../shared/battery` recomputes it and the leave-one-out
    # figures (a width calibrated on three cells, measured on the fourth).
    wear_shape_sd: float = 0.65

    def as_dict(self) -> dict[str, float]:
        return asdict(self)
