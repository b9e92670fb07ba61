"""The air-conditioner profile: what normal looks like for a split unit cooling a room,
and how far from it is a fault."""

from __future__ import annotations

from dataclasses import asdict, dataclass

HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class AirConditionerProfile:
    """What normal looks like for a split air conditioner in cooling mode, and how far
    from it is a fault.

    Normal life, for scale: supply air 5-14 K below return air while the compressor runs
    (less at low inverter speed, more on a high fan at full speed); compressor input
    200-1400 W rising with the outdoor temperature; filter pressure drop 20-80 Pa,
    rising slowly with run hours and falling when the owner rinses the filter.

    Cooling delivered per watt (the refrigerant test) follows
    ``log ΔT = c + a_p log(P) + a_rpm log(rpm/1000) + a_out (T_out - 30) + a_ret (T_ret - 26)``:
    sensible cooling is COP x compressor power, spread over an airflow proportional to
    fan speed; COP falls with the condenser's air temperature and at high compressor
    speed, and rises with warmer return air. The exponents below come from that physics
    and were fitted (with one intercept per unit) on healthy simulated units; `c` is the
    device's own, learned, and `refrigerant_prior_intercept` is the fleet's typical one.
    """

    # Readings further apart than this do not count as continuous observation.
    max_gap_s: float = 15 * 60.0
    # One sample never carries more weight than this much time.
    max_sample_weight_s: float = 5 * 60.0
    # Power that is not the compressor: controller electronics, and the fan (cubic in rpm).
    electronics_w: float = 9.0
    fan_w_at_1000_rpm: float = 20.0
    fan_running_rpm: float = 300.0  # below this the indoor fan is off

    # Refrigerant low: supply-return ΔT below what this unit's compressor power, fan
    # speed, outdoor and return air would give a healthy unit.
    refrigerant_settle_s: float = 8 * 60.0  # compressor running this long: coil settled
    refrigerant_min_compressor_w: float = 120.0
    refrigerant_min_delta_c: float = 0.3
    # Supply air this cold: the coil is at its anti-freeze limit and the controller, not
    # the refrigerant charge, sets the ΔT (a slow fan behind a fast compressor).
    refrigerant_coil_limited_supply_c: float = 11.5
    refrigerant_power_exp: float = 0.67
    refrigerant_rpm_exp: float = -0.77
    refrigerant_outdoor_slope: float = -0.024  # per K of outdoor air above 30 °C
    refrigerant_return_slope: float = 0.027  # per K of return air above 26 °C
    refrigerant_prior_intercept: float = -1.80  # fleet typical (sd ~0.06 between units)
    refrigerant_prior_margin: float = 0.30  # the model's floor: no unit is normal below
    refrigerant_block_s: float = 30 * 60.0  # steady running time averaged into one block
    refrigerant_level_tau_s: float = 4 * HOUR_S  # of running time
    refrigerant_baseline_tau_s: float = 60 * HOUR_S  # of running time
    refrigerant_prior_blocks: float = 4.0  # the prior intercept counts as this many blocks
    refrigerant_warmup_blocks: int = 12  # learn the unit's own intercept for this long
    refrigerant_min_blocks: int = 6  # no verdict on less
    refrigerant_drop: float = 0.16  # log units: 15 % less cooling per watt than expected
    refrigerant_confirm_s: float = 2 * HOUR_S  # of running time below it
    # The baseline learns only while a CUSUM (per running hour) of the shortfall less this
    # allowance stands at zero; the onset is when a more sensitive one last stood there.
    refrigerant_learn_allowance: float = 0.06
    refrigerant_onset_allowance: float = 0.02
    refrigerant_clear_drop: float = 0.08  # episode over once back within this...
    refrigerant_clear_hold_s: float = 12 * HOUR_S  # ...for this much running time
    duty_tau_s: float = 24 * HOUR_S  # compressor share of switched-on time (evidence)

    # Filter clogged: pressure drop, normalised to 1000 rpm (dp / (rpm/1000)^2, which
    # follows the filter's resistance and not the fan stage), far above normal.
    filter_settle_s: float = 120.0  # fan running this long
    # Below this (at 1000 rpm) no filter is fitted or the sensor failed: no clean filter
    # reads so little, and such readings say nothing about its loading.
    filter_min_plausible_pa: float = 8.0
    filter_level_tau_s: float = 1 * HOUR_S  # of fan running time
    filter_trend_fast_tau_s: float = 3 * HOUR_S
    filter_trend_slow_tau_s: float = 12 * HOUR_S
    filter_baseline_rise_tau_s: float = 48 * HOUR_S  # follows normal loading slowly...
    filter_baseline_fall_tau_s: float = 1 * HOUR_S  # ...and a rinse at once
    filter_warmup_s: float = 3 * HOUR_S  # of fan running time
    filter_limit_pa: float = 80.0  # above any normal filter, at 1000 rpm
    filter_rise_ratio: float = 1.25  # or this far above the unit's own baseline...
    filter_rate_pa_per_h: float = 0.25  # ...while rising this fast (5x normal loading)
    # Normal loading rises no faster than this: the baseline follows only such rises,
    # and the onset is when the dp last rose no faster.
    filter_quiet_rate_pa_per_h: float = 0.10
    filter_confirm_s: float = 3 * HOUR_S  # of fan running time
    filter_clear_ratio: float = 1.15  # episode over once back within this of baseline...
    filter_clear_hold_s: float = 1 * HOUR_S  # ...for this long (a rinse)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)
