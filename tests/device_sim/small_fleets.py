"""Small fleet definitions for the simulator's tests (built in milliseconds)."""

from __future__ import annotations

from typing import Any

from device_sim.fleet_definition import FleetDefinition, parse_fleet_definition

START = 1_764_000_000.0  # 2025-11-24 16:00 UTC
HOUR = 3600.0
DAY = 86400.0


def mixed(**overrides: Any) -> dict[str, Any]:
    """Every device type, a few of each, two cities, no faults and a perfect network."""
    data: dict[str, Any] = {
        "name": "mixed",
        "seed": 5,
        "start": START,
        "duration": "1d",
        "interval_s": 60,
        "devices": {
            "fridge": {"models": {"FR-300": 3, "FR-500": 2}},
            "washer": {"models": {"WM-700": 2, "WM-900": 1}},
            "air_conditioner": {"models": {"AC-2500": 2, "AC-3500": 1}},
            "battery_pack": {"models": {"RV-5200": 2, "EB-14000": 1}},
        },
        "regions": [
            {"name": "Shanghai", "lat": 31.23, "lon": 121.47, "radius_km": 30, "weight": 3},
            {"name": "Hangzhou", "lat": 30.27, "lon": 120.16, "radius_km": 20},
        ],
    }
    data.update(overrides)
    return data


def definition(**overrides: Any) -> FleetDefinition:
    return parse_fleet_definition(mixed(**overrides))
