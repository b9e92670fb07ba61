"""Device types and the facts about one installed appliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class DeviceType(StrEnum):
    """The appliance families Faultline knows (DESIGN.md)."""

    FRIDGE = "fridge"
    WASHER = "washer"
    AIR_CONDITIONER = "air_conditioner"
    BATTERY_PACK = "battery_pack"


# The metrics each type is expected to send (a device may send more).
EXPECTED_METRICS: dict[DeviceType, tuple[str, ...]] = {
    DeviceType.FRIDGE: (
        "cabinet_temp_c",
        "freezer_temp_c",
        "setpoint_c",
        "compressor_on",
        "door_open",
        "power_w",
    ),
    DeviceType.WASHER: (
        "drum_rpm",
        "vibration_g",
        "motor_current_a",
        "water_level_l",
        "drain_pump_on",
        "cycle_phase",
    ),
    DeviceType.AIR_CONDITIONER: (
        "supply_temp_c",
        "return_temp_c",
        "outdoor_temp_c",
        "compressor_on",
        "fan_rpm",
        "power_w",
        "filter_dp_pa",
    ),
    DeviceType.BATTERY_PACK: (
        "voltage_v",
        "current_a",
        "temp_c",
        "soc_pct",
        "cycle_count",
        "full_charge_capacity_mah",
        "design_capacity_mah",
    ),
}


class CustomerTier(StrEnum):
    """Service level a customer bought; drives SLAs."""

    STANDARD = "standard"
    PREMIUM = "premium"
    VIP = "vip"


@dataclass(frozen=True, slots=True)
class Location:
    """A point on the map, in decimal degrees (WGS 84)."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the service knows about one provisioned appliance."""

    device_id: str
    type: DeviceType
    model: str
    customer_id: str
    location: Location
    serial: str | None = None
    production_batch: str | None = None
    firmware: str | None = None
    install_date: date | None = None
    customer_tier: CustomerTier = CustomerTier.STANDARD
