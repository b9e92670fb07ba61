"""The detection engine: routes each reading to its device's detectors, created on demand.

Ingest calls `process` for every stored reading; `state()` / `from_state()` hand the whole
engine (every device's detectors) over to another process or across a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from detection.detector_set import DetectorSet
from detection.fridge import FRIDGE_DETECTORS
from domain import Anomaly, DeviceType, Reading

STATE_VERSION = 1

# One entry per device type that has detectors; a type module adds its own line here.
DETECTOR_SETS: dict[DeviceType, DetectorSet] = {
    DeviceType.FRIDGE: FRIDGE_DETECTORS,
}


class DetectionStateError(ValueError):
    """An engine state this version cannot resume from."""


class DetectionEngine:
    """Per-device detectors for every device type that has some; others yield nothing.

    >>> from domain import Reading
    >>> engine = DetectionEngine()
    >>> engine.process(DeviceType.FRIDGE, Reading("fridge-0001", 0.0, 1, {"cabinet_temp_c": 4.0,
    ...     "compressor_on": 1}))
    []
    >>> sorted(engine.state()["devices"]["fridge-0001"]["detectors"])
    ['compressor_failure', 'temp_drift']
    """

    def __init__(self, profiles: Mapping[DeviceType, object] | None = None) -> None:
        self.profiles: dict[DeviceType, object] = {
            device_type: detector_set.profile_type()
            for device_type, detector_set in DETECTOR_SETS.items()
        }
        if profiles:
            self.profiles.update(profiles)
        self._devices: dict[str, tuple[DeviceType, dict[str, Any]]] = {}

    def process(self, device_type: DeviceType, reading: Reading) -> list[Anomaly]:
        """Feed one reading to its device's detectors; return what they confirmed."""
        detectors = self._detectors(device_type, reading.device_id)
        found = []
        for detector in detectors.values():
            anomaly = detector.update(reading)
            if anomaly is not None:
                found.append(anomaly)
        return found

    def _detectors(self, device_type: DeviceType, device_id: str) -> dict[str, Any]:
        known = self._devices.get(device_id)
        if known is not None and known[0] == device_type:
            return known[1]
        detectors = self._new(device_type, {})
        self._devices[device_id] = (device_type, detectors)
        return detectors

    def _new(self, device_type: DeviceType, states: Mapping[str, Any]) -> dict[str, Any]:
        detector_set = DETECTOR_SETS.get(device_type)
        if detector_set is None:
            return {}
        return detector_set.build(self.profiles[device_type], states)

    @property
    def device_count(self) -> int:
        return len(self._devices)

    def state(self) -> dict[str, Any]:
        """Every device's detector state, JSON-ready."""
        return {
            "version": STATE_VERSION,
            "devices": {
                device_id: {
                    "type": device_type.value,
                    "detectors": {name: d.state() for name, d in detectors.items()},
                }
                for device_id, (device_type, detectors) in self._devices.items()
            },
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], profiles: Mapping[DeviceType, object] | None = None
    ) -> DetectionEngine:
        """An engine that carries on exactly where the one that saved `state` stopped."""
        if state.get("version") != STATE_VERSION:
            raise DetectionStateError(
                f"detection state version {state.get('version')!r}; "
                f"this build reads version {STATE_VERSION}"
            )
        engine = cls(profiles)
        for device_id, saved in state.get("devices", {}).items():
            device_type = DeviceType(saved["type"])
            detectors = engine._new(device_type, saved.get("detectors", {}))
            engine._devices[device_id] = (device_type, detectors)
        return engine
