"""The washer profile: what normal looks like for a front-loading washer, and how far from it
is a fault."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class WasherProfile:
    """What normal looks like for a domestic front-loading washer, and how far from it is a fault.

    Normal life, for scale: a few cycles a week, none for days at times; a cycle fills,
    washes, drains, rinses and spins over 0.5-2.5 h. Before each spin the controller
    checks the load's imbalance at ~93 rpm and redistributes or spins slower when it is
    too large, so bulky loads mean repeated attempts, reduced speeds and sometimes no
    spin at all. Spinning up, the tub swings through its suspension resonance (150-250 rpm):
    the cabinet shakes there about 1.5-3 times as hard as at full speed, whatever the
    load. A drain empties 8-20 L in under a minute, now and then slower (suds, a kinked
    hose). Current at full speed depends on the speed and a little on the load (±5 %).

    `cycle_phase` codes (DESIGN.md): 0 idle, 1 fill, 2 wash, 3 rinse, 4 spin, 5 drain.
    """

    # What a maker states, which a device-model catalog entry may set (`ratings`):
    # (`domain.device_models.RATINGS` name -> profile field)
    RATINGS: ClassVar[dict[str, str]] = {
        "rated_spin_current_a": "bearing_rated_current_a",
        "rated_spin_rpm": "bearing_rated_rpm",
    }

    # Readings further apart than this do not count as continuous observation: the
    # cycle or drain being watched is dropped rather than judged on a guess. A cycle is
    # judged at its first idle report.
    max_gap_s: float = 5 * 60.0

    # A drum turning faster than this is spinning, whatever phase is reported: laundry
    # tumbles at 30-60 rpm and sticks to the drum (distribution) below ~100 rpm.
    spin_detect_rpm: float = 120.0
    # Spin figures. A report is at full speed when the drum turns at least this fast and
    # within `plateau_tolerance` of the report before (a whole interval at speed).
    plateau_min_rpm: float = 600.0
    plateau_tolerance: float = 0.03
    vibration_floor_g: float = 0.05  # at-speed vibration is never taken as less than this

    # Imbalance (suspension): the resonance peak spinning up, relative to the vibration at
    # speed of the same spin, measures how little damping is left (the amplification at
    # resonance goes as 1 / damping ratio, whatever the load). Each washer learns its own
    # (median of its first smooth spins; cabinets, feet and floors differ) and is judged
    # against it: a spin is rough when it amplifies `imbalance_rel_ratio` times more
    # (half the damping gone) and the peak is a real knock. Spin-ups that never reach
    # speed count as rough when they shook this much harder than its normal peak.
    imbalance_learn_spins: int = 6
    imbalance_rel_ratio: float = 2.0
    imbalance_min_peak_g: float = 0.4  # ...if its spin-up peak is also at least this
    imbalance_abort_rel_peak: float = 2.5  # a spin that never got to speed, shaking this hard
    imbalance_window_cycles: int = 4  # rough in this many of the last cycles...
    imbalance_confirm_cycles: int = 3  # ...at least this many: confirmed
    imbalance_clear_cycles: int = 3  # smooth this many cycles in a row: episode over

    # Bearing wear: worn drum bearings drag (more current at speed, up to +50 % worn out)
    # and rumble (vibration at speed growing as rpm^2), cycle after cycle. Each cycle's
    # longest spin at full speed is judged against this washer's own normal at the same
    # speed (bins of `bearing_speed_bin_rpm`): the median and MAD of log current and log
    # vibration over its first normal cycles there. Units of one model differ by tens of
    # percent (motor, belt, tub seal, installation), so no figure is assumed; a maker's
    # rated current may be provisioned (`bearing_rated_current_a` at
    # `bearing_rated_rpm`), and then judges that speed until the unit has its own normal.
    # Both excesses, in spreads, are accumulated over cycles (CUSUM), so one heavy load
    # proves nothing. Slower final spins (a load the controller could not balance) are
    # another bin, and a bin not yet learned gives no verdict.
    bearing_min_rpm: float = 900.0
    bearing_speed_bin_rpm: float = 100.0
    bearing_baseline_cycles: int = 3  # a speed's normal is learned from this many cycles
    # A spread never taken as less than this (log): the load's weight and the water left
    # in it move the current at speed by a few percent; the balance moves the vibration
    # by tens of percent.
    bearing_current_min_spread: float = 0.035
    bearing_vibration_min_spread: float = 0.35
    # A maker's figure (optional, provisioned per model): current at this speed, and how
    # far its units differ (log sd).
    bearing_rated_current_a: float | None = None
    bearing_rated_rpm: float = 1000.0
    bearing_rated_spread: float = 0.08
    # What looks normal teaches normal (spreads above it): current drawn while the
    # vibration was at most this far up, vibration while the current was at most this.
    bearing_learn_current_below: float = 0.5
    bearing_learn_vibration_below: float = 1.5
    bearing_allowance: float = 1.5  # spreads of excess (both together) free a cycle
    bearing_cusum_limit: float = 3.5  # accumulated excess that confirms wear...
    bearing_current_margin: float = 0.03  # ...with recent cycles' current this far up (log)...
    bearing_vibration_margin: float = 0.2  # ...and their vibration at speed this far (log)
    bearing_recent_weight: float = 0.4  # EWMA weight per cycle of the recent excess
    bearing_clear_cycles: int = 5  # cycles in a row within the allowance: repaired

    # Drain: the level falls at 8-28 L/min with the pump on; a clogged filter or hose
    # slows it, a blocked one stops it and the controller gives up with water inside.
    drain_empty_l: float = 1.0  # at or below this the drum counts as drained
    drain_slow_lpm: float = 12.0  # a full minute of pumping that moved less than this...
    drain_slow_reports: int = 3  # ...or pumping this many reports and still not empty
    drain_slow_share: float = 0.5  # a cycle is slow when this share of its drains were
    drain_confirm_cycles: int = 2  # slow cycles in a row that confirm a clogging drain
    drain_stall_level_l: float = 2.0  # pump stopped in the drain phase with more water...
    drain_stall_pump_reports: int = 4  # ...after pumping at least this long: gave up
    drain_clear_cycles: int = 2  # cycles that drain normally: episode over

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


# What a maker states about particular models (rated current at speed), where it is
# provisioned: none is built in. A model not listed is judged on the type's profile,
# every unit against its own learned normal.
WASHER_MODEL_PROFILES: dict[str, WasherProfile] = {}


def washer_profile_for(model: str | None) -> WasherProfile:
    """The profile for a washer of `model`: its own where it has one, else the type's."""
    return WASHER_MODEL_PROFILES.get(model or "", WasherProfile())
