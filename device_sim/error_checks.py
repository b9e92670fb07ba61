"""The checks appliance controllers run on their own signals before raising an error code.

Each check looks at one report (the controller sees what its sensors measure) and says
whether the condition behind a code holds; `appliance_errors` raises the code once the
condition has held for the code's `hold_s` without a break. Thresholds are the kind a
service manual states, fixed per type: a controller does not know the unit's fault.
"""

from __future__ import annotations

from collections.abc import Mapping

# Fridge E21 "compressor does not start": the cabinet is well above its setpoint and the
# compressor is off (it is called for and does not run). Defrost and the minimum off-time
# keep a healthy compressor off for at most ~45 min, and rarely with a warm cabinet.
FRIDGE_WARM_ABOVE_SETPOINT_C = 3.0

# Washer E-OE "drain error": water still in the drum during a drain phase. A healthy drain
# empties within the pump's time limit (8-10 min); a slow one (suds, a kinked hose) or a
# blocked one does not, and the machine stops with the water in it.
WASHER_DRAIN_PHASE = 5
WASHER_DRAIN_WATER_L = 2.0

# Washer E-UE "unbalanced load: spin aborted": a spin phase in which the drum does not get
# to spin speed (spin-ups aborted past resonance and retried, or a speed held very low).
WASHER_SPIN_PHASE = 4
WASHER_SPIN_LOW_RPM = 350.0

# AC E5 "low refrigerant protection": the compressor runs but the coil barely cools the
# air (return minus supply small); a healthy unit cools its air by 7-15 K once running.
AC_MIN_COOLING_K = 5.0

# Battery BMS-OT "over-temperature": the pack is hotter than lithium cells may be charged
# at (45 °C, the usual limit). A healthy pack gets there on a hot day now and then.
BATTERY_MAX_TEMP_C = 45.0


def fridge_warm_and_compressor_off(m: Mapping[str, float]) -> bool:
    return m["compressor_on"] == 0 and m["cabinet_temp_c"] >= (
        m["setpoint_c"] + FRIDGE_WARM_ABOVE_SETPOINT_C
    )


def washer_water_left_in_drain(m: Mapping[str, float]) -> bool:
    return m["cycle_phase"] == WASHER_DRAIN_PHASE and m["water_level_l"] >= WASHER_DRAIN_WATER_L


def washer_spin_without_speed(m: Mapping[str, float]) -> bool:
    return m["cycle_phase"] == WASHER_SPIN_PHASE and m["drum_rpm"] < WASHER_SPIN_LOW_RPM


def ac_running_without_cooling(m: Mapping[str, float]) -> bool:
    return m["compressor_on"] == 1 and m["return_temp_c"] - m["supply_temp_c"] < AC_MIN_COOLING_K


def battery_over_temperature(m: Mapping[str, float]) -> bool:
    return m["temp_c"] > BATTERY_MAX_TEMP_C
