"""Event-time detectors for washer faults: one object per device and fault, O(1) state each.

`ImbalanceDetector` catches a suspension that no longer damps the tub (a broken shock
absorber): spin-ups shake far harder, relative to the same spin at full speed, than this
washer's own first spins did. `DrainBlockedDetector` catches water that leaves too
slowly or not at all with the pump running, and a drain that gives up with water inside
whatever phase the firmware reports next. `BearingWearDetector` catches current and
vibration at full speed rising above this washer's own normal at that speed (a maker's
rated current only where one is provisioned). Each learns its washer's normal before it
gives a verdict. All three judge whole spins, drains and cycles from the reports'
summaries (`cycle_phase`: 0 idle, 1 fill, 2 wash, 3 rinse, 4 spin, 5 drain, 9 halted),
cross-check the phase with drum speed, pump and level, ignore readings older than the
last one they used, and keep every threshold in a `WasherProfile`.
"""

from __future__ import annotations

from detection.detector_set import DetectorSet
from detection.profiles import WasherProfile
from detection.profiles.washer import WASHER_MODEL_PROFILES
from detection.washer_base import Phase
from detection.washer_bearing import BearingWearDetector
from detection.washer_drain import DrainBlockedDetector
from detection.washer_imbalance import ImbalanceDetector

__all__ = [
    "WASHER_DETECTORS",
    "BearingWearDetector",
    "DrainBlockedDetector",
    "ImbalanceDetector",
    "Phase",
]

WASHER_DETECTORS = DetectorSet(
    profile_type=WasherProfile,
    detectors={
        "imbalance": ImbalanceDetector,
        "drain_blocked": DrainBlockedDetector,
        "bearing_wear": BearingWearDetector,
    },
    model_profiles=WASHER_MODEL_PROFILES,
)
