"""A device type's detectors and the profile they share, as the engine builds them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain import Anomaly, Reading


class Detector(Protocol):
    """One detector for one device: river-style, O(1) per reading, restorable."""

    def update(self, reading: Reading) -> Anomaly | None: ...

    def state(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DetectorSet:
    """`detectors` maps a stable name to a class built as `cls(profile)` or
    `cls.from_state(profile, state)`; `profile_type()` gives the default profile and
    `model_profiles` the figures of particular device models (a model's rated motor
    current, say), used for devices the engine is told are of that model."""

    profile_type: type
    detectors: Mapping[str, Any]
    model_profiles: Mapping[str, object] = field(default_factory=dict)

    def build(self, profile: object, states: Mapping[str, Any]) -> dict[str, Detector]:
        if not isinstance(profile, self.profile_type):
            raise TypeError(
                f"expected a {self.profile_type.__name__} profile, got {type(profile).__name__}"
            )
        return {
            name: cls.from_state(profile, states[name]) if name in states else cls(profile)
            for name, cls in self.detectors.items()
        }
