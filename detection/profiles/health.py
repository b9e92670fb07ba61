"""Device-health profiles: what every device type's sensors can physically report, which
metrics must keep moving, when silence means offline, and what the fleet model looks at.

Generic detectors (`detection/sensor.py`, `detection/offline.py`, `detection/fleet_model.py`)
read these; each device type has one `HealthProfile`, all of it data.
"""

from __future__ import annotations

from dataclasses import dataclass

from detection.fleet_model import HourlyFeatures, feature_names
from domain import DeviceType

MINUTE_S = 60.0
HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric's physical limits and, if it should keep moving, for how long it may not.

    `low`/`high`: readings outside are physically impossible (an open or shorted sensor).
    `stuck_after_s`: a value unchanged (within `tolerance`) this long is a stuck sensor;
    None for metrics that legitimately sit still (a setpoint, a door switch at night).
    `moving_while`: (metric, minimum) — the metric is only expected to move while that
    other metric is at least `minimum` (a washer's drum is still between washes).
    """

    name: str
    low: float
    high: float
    stuck_after_s: float | None = None
    tolerance: float = 0.0
    moving_while: tuple[str, float] | None = None


@dataclass(frozen=True, slots=True)
class HealthProfile:
    """The generic, type-wide facts the sensor, offline and fleet detectors use."""

    metrics: tuple[MetricSpec, ...]
    # Offline: the device's last reading lags the fleet's event time by more than this,
    # and by more than `offline_cadence_factor` times the device's own typical interval
    # between readings (the median of its last `offline_cadence_window`), so a device that
    # reports daily is not offline after half an hour. No verdict before it has shown a
    # cadence (`offline_min_intervals` intervals).
    offline_after_s: float = 30 * MINUTE_S
    offline_cadence_factor: float = 3.5
    offline_cadence_window: int = 9
    offline_min_intervals: int = 2
    # ...or it left a last will ("offline" status) and has been silent this long.
    offline_will_grace_s: float = 10 * MINUTE_S
    # Readings further apart than this break a stuck run (unwatched time proves nothing).
    max_gap_s: float = 15 * MINUTE_S
    # Fleet model: hourly summaries of these metrics (every metric a sensor measures)...
    fleet_metrics: tuple[str, ...] = ()
    # ...over hours with at least this many readings (a partial hour is not judged)...
    fleet_min_readings: int = 30
    # ...and, if the device has one, the metric whose quiet stretches are "at rest", where
    # the other sensors' scatter is their own noise (see HourlyFeatures).
    fleet_rest_metric: str | None = None
    fleet_rest_tolerance: float = 0.0
    # An unexplained fleet-model finding is withheld while another fault of the device is
    # open or closed less than this long ago: the specific detector explains it.
    explained_for_s: float = 24 * HOUR_S

    def hourly_features(self) -> HourlyFeatures:
        """A fresh hourly summary for the fleet model, as this profile configures it."""
        return HourlyFeatures(
            self.fleet_metrics,
            self.fleet_min_readings,
            rest_metric=self.fleet_rest_metric,
            rest_tolerance=self.fleet_rest_tolerance,
        )

    def feature_names(self) -> list[str]:
        return feature_names(self.fleet_metrics, rest=self.fleet_rest_metric is not None)

    def spec(self, name: str) -> MetricSpec | None:
        for spec in self.metrics:
            if spec.name == name:
                return spec
        return None


# Limits sit just inside the values a broken sensor rails at (an open or shorted NTC
# thermistor reads -40 or 125 °C) and outside anything a working appliance reaches.
# Stuck limits: in simulated normal life a temperature or power reading never holds
# still for more than ~15 minutes (compressor cycles, noise): an hour is a stuck sensor.

_FRIDGE = HealthProfile(
    metrics=(
        MetricSpec("cabinet_temp_c", -35.0, 60.0, stuck_after_s=1 * HOUR_S),
        MetricSpec("freezer_temp_c", -38.0, 60.0, stuck_after_s=1 * HOUR_S),
        MetricSpec("setpoint_c", -5.0, 15.0),
        MetricSpec("compressor_on", 0.0, 1.0),
        MetricSpec("door_open", 0.0, 1.0),
        MetricSpec("power_w", 0.0, 2500.0, stuck_after_s=2 * HOUR_S),
    ),
    offline_after_s=30 * MINUTE_S,
    fleet_metrics=("cabinet_temp_c", "freezer_temp_c", "compressor_on", "door_open", "power_w"),
)

# A washer is idle ~96 % of the time, and a blocked drain can leave it standing in the
# drain phase for hours: its water level and vibration only have to move while the drum
# turns (tumbling sloshes the water; in simulated life neither holds still for more than
# ~15 turning minutes, blocked drain or not).
_RUNNING = ("drum_rpm", 1.0)
_WASHER = HealthProfile(
    metrics=(
        MetricSpec("drum_rpm", 0.0, 2200.0),
        MetricSpec("vibration_g", 0.0, 12.0, stuck_after_s=25 * MINUTE_S, moving_while=_RUNNING),
        MetricSpec("motor_current_a", 0.0, 25.0),
        MetricSpec("water_level_l", 0.0, 100.0, stuck_after_s=40 * MINUTE_S, moving_while=_RUNNING),
        MetricSpec("drain_pump_on", 0.0, 1.0),
        MetricSpec("cycle_phase", 0.0, 10.0),
    ),
    offline_after_s=30 * MINUTE_S,
    fleet_metrics=("drum_rpm", "vibration_g", "motor_current_a", "water_level_l"),
)

_AC = HealthProfile(
    metrics=(
        MetricSpec("supply_temp_c", -30.0, 80.0, stuck_after_s=90 * MINUTE_S),
        MetricSpec("return_temp_c", -30.0, 80.0, stuck_after_s=90 * MINUTE_S),
        MetricSpec("outdoor_temp_c", -50.0, 70.0, stuck_after_s=90 * MINUTE_S),
        MetricSpec("compressor_on", 0.0, 1.0),
        MetricSpec("fan_rpm", 0.0, 5000.0),
        MetricSpec("power_w", 0.0, 10000.0),
        MetricSpec("filter_dp_pa", 0.0, 2000.0),
    ),
    offline_after_s=30 * MINUTE_S,
    fleet_metrics=(
        "supply_temp_c",
        "return_temp_c",
        "outdoor_temp_c",
        "compressor_on",
        "fan_rpm",
        "power_w",
        "filter_dp_pa",
    ),
)

_BATTERY = HealthProfile(
    metrics=(
        # Packs from a single lithium cell (deep discharge at 2 V) to 48 V nominal; the
        # BMS's converter reads 0 or 65.535 V broken. A model's own range is in the catalog.
        MetricSpec("voltage_v", 2.0, 60.0, stuck_after_s=1 * HOUR_S),
        MetricSpec("current_a", -1000.0, 1000.0),
        MetricSpec("temp_c", -30.0, 100.0, stuck_after_s=1 * HOUR_S),
        MetricSpec("soc_pct", 0.0, 100.0),
        MetricSpec("cycle_count", 0.0, 100_000.0),
        MetricSpec("full_charge_capacity_mah", 0.0, 10_000_000.0),
        MetricSpec("design_capacity_mah", 0.0, 10_000_000.0),
    ),
    offline_after_s=30 * MINUTE_S,
    fleet_metrics=("voltage_v", "current_a", "temp_c", "soc_pct"),
    # Docked or on the shelf: the current barely moves (its sensor reads to 0.01 A).
    fleet_rest_metric="current_a",
    fleet_rest_tolerance=0.05,
)

HEALTH_PROFILES: dict[DeviceType, HealthProfile] = {
    DeviceType.FRIDGE: _FRIDGE,
    DeviceType.WASHER: _WASHER,
    DeviceType.AIR_CONDITIONER: _AC,
    DeviceType.BATTERY_PACK: _BATTERY,
}
