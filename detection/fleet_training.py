"""Fitting the fleet model from readings: hourly feature rows per device model and per
device type (the fallback group), from any source — a simulated healthy fleet or a
site's own telemetry history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from detection.fleet_model import FleetModel, HourlyFeatures
from detection.profiles.health import HEALTH_PROFILES
from domain import DeviceType, Reading

MIN_ROWS = 10  # a group with fewer hours is left to its type's forest


class FleetRows:
    """Accumulates closed hours per group; readings of devices it was not told about are
    skipped. Each device's readings must come in event-time order."""

    def __init__(self, types: Mapping[str, DeviceType], models: Mapping[str, str]) -> None:
        self.types = types
        self.models = models
        self.rows: dict[str, list[list[float]]] = {}
        self._hours: dict[str, HourlyFeatures] = {}

    def add(self, readings: Iterable[Reading]) -> None:
        hours, rows = self._hours, self.rows
        for reading in readings:
            device_type = self.types.get(reading.device_id)
            if device_type is None:
                continue
            acc = hours.get(reading.device_id)
            if acc is None:
                acc = hours[reading.device_id] = HEALTH_PROFILES[device_type].hourly_features()
            closed = acc.add(reading.ts, reading.metrics)
            if closed is None:
                continue
            model = self.models.get(reading.device_id)
            if model is not None:
                rows.setdefault(model, []).append(closed[1])
            rows.setdefault(device_type.value, []).append(closed[1])

    def fit(self) -> FleetModel:
        """A fleet model over every group with at least `MIN_ROWS` hours."""
        groups = {group: found for group, found in self.rows.items() if len(found) >= MIN_ROWS}
        if not groups:
            raise ValueError(
                f"no device model or type has {MIN_ROWS} complete hours of readings to learn from"
            )
        return FleetModel().fit(groups)
