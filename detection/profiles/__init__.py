"""Device-type profiles: every threshold and time constant the detectors use, as data.

One module per device type; each profile is a frozen dataclass with defaults.
"""

from detection.profiles.fridge import HOUR_S, FridgeProfile

__all__ = ["HOUR_S", "FridgeProfile"]
