"""Fault codes and severities: names external tools rely on (never rename a code)."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class FaultCode(StrEnum):
    """Every fault Faultline can diagnose (DESIGN.md)."""

    FRIDGE_TEMP_DRIFT = "FRIDGE_TEMP_DRIFT"
    FRIDGE_COMPRESSOR_FAILURE = "FRIDGE_COMPRESSOR_FAILURE"
    FRIDGE_DOOR_SEAL_LEAK = "FRIDGE_DOOR_SEAL_LEAK"
    WASHER_IMBALANCE = "WASHER_IMBALANCE"
    WASHER_DRAIN_BLOCKED = "WASHER_DRAIN_BLOCKED"
    WASHER_BEARING_WEAR = "WASHER_BEARING_WEAR"
    AC_REFRIGERANT_LOW = "AC_REFRIGERANT_LOW"
    AC_FILTER_CLOGGED = "AC_FILTER_CLOGGED"
    BATTERY_WEAR = "BATTERY_WEAR"
    BATTERY_OVERHEAT = "BATTERY_OVERHEAT"
    SENSOR_STUCK = "SENSOR_STUCK"
    SENSOR_OUT_OF_RANGE = "SENSOR_OUT_OF_RANGE"
    DEVICE_OFFLINE = "DEVICE_OFFLINE"
    APPLIANCE_ERROR_CODE = "APPLIANCE_ERROR_CODE"
    UNCLASSIFIED_ANOMALY = "UNCLASSIFIED_ANOMALY"


class Severity(IntEnum):
    """How urgent a fault is; ordered so that `max()` picks the worst."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()


# Faults that end by themselves, so one that clears before anyone visits needs no visit
# (its ticket becomes `auto_resolved`): a device that was offline is back. A hardware fault
# that comes and goes is intermittent and still gets its visit.
SELF_CLEARING: frozenset[FaultCode] = frozenset({FaultCode.DEVICE_OFFLINE})
