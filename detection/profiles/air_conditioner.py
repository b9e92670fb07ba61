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

    Cooling delivered per watt (the refrigerant test): sensible cooling is airflow x
    supply-return ΔT, and airflow follows fan speed (fan laws), so ``ΔT x rpm`` per watt of
    compressor input is the work done against the heat load per watt spent. How much a
    healthy unit delivers depends on its build, its installation, the condenser's air
    (COP falls as it warms), the compressor's speed (an inverter at part load is more
    efficient) and the humidity; no figure for it is assumed. Each unit learns its own,
    in bins of outdoor temperature and compressor input (the speed's proxy), from its
    first day(s), and is judged only against a bin it has learned.
    """

    # Readings further apart than this do not count as continuous observation.
    max_gap_s: float = 15 * 60.0
    # One sample never carries more weight than this much time.
    max_sample_weight_s: float = 5 * 60.0
    fan_running_rpm: float = 300.0  # below this the indoor fan is off

    # Refrigerant low: less cooling per watt (log of ΔT x rpm/1000 per compressor W)
    # than this unit gave in the same conditions.
    refrigerant_settle_s: float = 8 * 60.0  # compressor running this long: coil settled
    # Below this input (all of it) a compressor is barely turning over, or the reading is
    # the controller and fan alone: too little work to judge the charge by.
    refrigerant_min_compressor_w: float = 100.0
    refrigerant_min_delta_c: float = 0.3
    # Supply air this cold: the coil is near its anti-freeze limit (evaporator at 0 °C,
    # supply air 8-10 °C) and the controller, not the charge, sets the ΔT.
    refrigerant_coil_limited_supply_c: float = 11.5
    refrigerant_block_s: float = 30 * 60.0  # steady running time averaged into one block
    # Conditions bins: condenser air (COP falls ~2-3 %/K, so 2 K keeps a bin within ~5 %)
    # and compressor input in log steps (power ~ speed^1.2-1.4 on an inverter).
    refrigerant_outdoor_bin_c: float = 2.0
    refrigerant_power_bin_log: float = 0.2
    # A neighbouring bin in easier conditions is used less the most a healthy unit loses
    # to them: COP falls ~2-3 %/K of condenser air (the lift grows), and an inverter's
    # cooling per watt falls as its input grows (~input^-0.25, bounded here by 0.4).
    refrigerant_cop_loss_per_k: float = 0.03
    refrigerant_cop_loss_per_log_w: float = 0.4
    refrigerant_bin_blocks: int = 9  # a bin learns from its first this many normal blocks,
    refrigerant_bin_blocks_per_day: int = 3  # at most this many a day (humid days differ)
    refrigerant_bin_min_blocks: int = 4  # ...and is used once it has this many
    # No verdict at all before the unit has been watched this long and has learned this
    # many blocks: a new unit's first day says what normal is, not what is wrong.
    refrigerant_warmup_s: float = 36 * HOUR_S
    refrigerant_warmup_blocks: int = 12
    # A block's shortfall, in log units, is judged against the bin's spread (MAD); the
    # spread is never taken as less than this (a humid day takes a few % of the capacity
    # for dehumidifying; sensors read to 0.1 K).
    refrigerant_min_spread: float = 0.04
    refrigerant_drop: float = 0.16  # log units: ~15 % less cooling per watt...
    refrigerant_drop_z: float = 2.5  # ...and this many spreads below the bin's median
    refrigerant_recent_weight: float = 0.35  # EWMA weight per block of the shortfall
    refrigerant_confirm_s: float = 3 * HOUR_S  # of running time short by both
    # The onset is when a CUSUM of the shortfall less this allowance last stood at zero.
    refrigerant_onset_allowance: float = 0.04
    refrigerant_clear_drop: float = 0.05  # episode over once back within this...
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
