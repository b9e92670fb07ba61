"""Device-type profiles: every threshold and time constant the detectors use, as data.

One module per device type; each profile is a frozen dataclass with defaults.
"""

from detection.profiles.air_conditioner import AirConditionerProfile
from detection.profiles.battery import BatteryProfile
from detection.profiles.fridge import HOUR_S, FridgeProfile
from detection.profiles.washer import WasherProfile

__all__ = ["HOUR_S", "AirConditionerProfile", "BatteryProfile", "FridgeProfile", "WasherProfile"]
