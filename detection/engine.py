"""The detection engine: routes readings, error-code events and status changes to each
device's detectors, puts alarm hygiene around all of them, and keeps event time.

Per device it builds, on first sight, the type's own detectors (`DETECTOR_SETS`), the
generic sensor detectors (stuck, out of range), an offline judge and an error-code
table; one `AlarmStream` per device and fault code decides what leaves the engine, so a
fault is announced once (and again only when it escalates). `advance` moves the fleet's
event-time watermark: it finds silent devices, lets event-fed alarms expire, and scores
closed hours with the fleet model in batches. `state()` / `from_state()` hand all of it
over to another worker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from detection.air_conditioner import AC_DETECTORS
from detection.battery import BATTERY_DETECTORS
from detection.detector_set import DetectorSet
from detection.error_codes import ErrorCodeDetector
from detection.fleet_model import FleetModel, HourlyFeatures
from detection.fridge import FRIDGE_DETECTORS
from detection.hygiene import AlarmPolicy, AlarmStream, policy_for
from detection.model_catalog import SpecError, model_health, model_profile
from detection.offline import FleetWatermark, OfflineDetector
from detection.profiles.error_codes import ERROR_CODES, ErrorCode
from detection.profiles.health import HEALTH_PROFILES, HealthProfile
from detection.sensor import OutOfRangeDetector, StuckSensorDetector
from detection.washer import WASHER_DETECTORS
from domain import Anomaly, DeviceType, FaultCode, Reading
from domain.device_models import DeviceModelSpec
from domain.wire import ApplianceEvent

STATE_VERSION = 2
NEVER = float("-inf")

# One entry per device type that has detectors; a type module adds its own line here.
DETECTOR_SETS: dict[DeviceType, DetectorSet] = {
    DeviceType.FRIDGE: FRIDGE_DETECTORS,
    DeviceType.WASHER: WASHER_DETECTORS,
    DeviceType.AIR_CONDITIONER: AC_DETECTORS,
    DeviceType.BATTERY_PACK: BATTERY_DETECTORS,
}

# Generic detectors every device gets, built from its type's `HealthProfile`.
HEALTH_DETECTORS: dict[str, Any] = {
    "sensor_stuck": StuckSensorDetector,
    "sensor_range": OutOfRangeDetector,
}

_OFFLINE = FaultCode.DEVICE_OFFLINE
_UNCLASSIFIED = FaultCode.UNCLASSIFIED_ANOMALY
DEFAULT_SCAN_EVERY_S = 300.0


class DetectionStateError(ValueError):
    """An engine state this version cannot resume from."""


@dataclass(frozen=True, slots=True)
class ClearStatus:
    """What the detectors say about one fault on one device right now: whether it still
    shows (its alarm is open: the detector's own clear condition has not held), when it
    last showed, since when it has been clear, and what the detector last said."""

    present: bool
    last_present_at: float | None
    cleared_since: float | None
    detail: str


class _Device:
    """Everything the engine keeps about one device."""

    __slots__ = (
        "detectors",
        "errors",
        "features",
        "group",
        "health_pairs",
        "heard",
        "last_ts",
        "offline",
        "offline_stream",
        "pairs",
        "sensor_range",
        "sensor_stuck",
        "streams",
        "type",
        "unclassified",
    )

    def __init__(self, device_type: DeviceType) -> None:
        self.type = device_type
        self.group: str | None = None  # the device model, for the fleet model
        self.last_ts = NEVER  # newest reading used
        self.heard = NEVER  # fleet event time when it was last heard from
        self.detectors: dict[str, Any] = {}
        # (detector, its stream or None when it reports several codes, whether it latches):
        # the generic sensor detectors first, then the type's own.
        self.health_pairs: list[tuple[Any, AlarmStream | None, bool]] = []
        self.pairs: list[tuple[Any, AlarmStream | None, bool]] = []
        self.sensor_range: OutOfRangeDetector
        self.sensor_stuck: StuckSensorDetector
        self.streams: dict[FaultCode, AlarmStream] = {}
        self.offline: OfflineDetector
        self.offline_stream: AlarmStream
        self.unclassified: AlarmStream
        self.errors: ErrorCodeDetector
        self.features: HourlyFeatures | None = None


class DetectionEngine:
    """Per-device detectors and alarm streams for every device type.

    >>> from domain import Reading
    >>> engine = DetectionEngine()
    >>> engine.process(DeviceType.FRIDGE, Reading("fridge-0001", 0.0, 1, {"cabinet_temp_c": 4.0,
    ...     "compressor_on": 1}))
    []
    >>> sorted(engine.state()["devices"]["fridge-0001"]["detectors"])
    ['compressor_failure', 'door_seal_leak', 'sensor_range', 'sensor_stuck', 'temp_drift']
    """

    def __init__(
        self,
        profiles: Mapping[DeviceType, object] | None = None,
        *,
        health: Mapping[DeviceType, HealthProfile] | None = None,
        policies: Mapping[FaultCode, AlarmPolicy] | None = None,
        error_codes: Mapping[DeviceType, Mapping[str, ErrorCode]] | None = None,
        fleet_model: FleetModel | None = None,
        scan_every_s: float = DEFAULT_SCAN_EVERY_S,
        model_profiles: Mapping[str, object] | None = None,
    ) -> None:
        self.profiles: dict[DeviceType, object] = {
            device_type: detector_set.profile_type()
            for device_type, detector_set in DETECTOR_SETS.items()
        }
        if profiles:
            self.profiles.update(profiles)
        # Per device model (`register`): the figures of that model, where a set has them.
        self.model_profiles: dict[str, object] = {
            model: profile
            for detector_set in DETECTOR_SETS.values()
            for model, profile in detector_set.model_profiles.items()
        }
        self.model_profiles.update(model_profiles or {})
        self.health: dict[DeviceType, HealthProfile] = {**HEALTH_PROFILES, **(health or {})}
        # Per device model, from the device-model catalog (`set_model_specs`).
        self.model_health: dict[str, HealthProfile] = {}
        self._builtin_profiles = dict(self.model_profiles)
        self._catalog_models: set[str] = set()
        self.policies: dict[FaultCode, AlarmPolicy] = dict(policies or {})
        self.error_codes: dict[DeviceType, Mapping[str, ErrorCode]] = {
            **ERROR_CODES,
            **(error_codes or {}),
        }
        self.fleet_model = fleet_model
        self.scan_every_s = scan_every_s
        self._devices: dict[str, _Device] = {}
        self._watermark = FleetWatermark()
        self._next_scan = NEVER
        # Closed hours waiting to be scored in one batch: (device_id, hour_start, vector).
        self._pending: list[tuple[str, float, list[float]]] = []
        # Open alarms that only events feed (no per-reading detector closes them).
        self._event_open: set[tuple[str, FaultCode]] = set()
        # Alarms that closed since the caller last took them: (device, fault, event time).
        # Bounded: a caller that never takes them (an evaluation) must not grow it forever.
        self.cleared: deque[tuple[str, FaultCode, float]] = deque(maxlen=100_000)

    # -- input ------------------------------------------------------------------------

    def process(self, device_type: DeviceType, reading: Reading) -> list[Anomaly]:
        """Feed one reading to its device's detectors; return the alarms it raised."""
        device_id = reading.device_id
        dev = self._devices.get(device_id)
        if dev is None or dev.type is not device_type:
            dev = self._add(device_id, device_type)
        ts = reading.ts
        if ts <= dev.last_ts:
            return []  # late or repeated: event time has moved past it
        metrics = reading.metrics
        dev.last_ts = ts
        dev.offline.heard(ts)
        watermark = self._watermark
        if ts > watermark.value:
            watermark.ahead[device_id] = ts
            dev.heard = ts
        else:
            dev.heard = watermark.value
        found: list[Anomaly] = []
        if dev.offline_stream.is_open:
            dev.offline_stream.observe(dev.heard, None)  # it is back
            if not dev.offline_stream.is_open:
                self.cleared.append((device_id, _OFFLINE, dev.heard))
        # The generic sensor detectors first, then the type's own (the loop is written
        # out twice: this is the hot path).
        for detector, stream, latching in dev.health_pairs:
            finding = detector.update(reading)
            if stream is None:
                if finding is None:
                    continue
                stream = self._stream(dev, finding.fault_code)
            if finding is not None or stream.is_open or stream.window:
                was_open = stream.is_open
                out = stream.observe(ts, finding, latching and detector.latched_)
                if out is not None:
                    found.append(out)
                elif was_open and not stream.is_open:
                    self.cleared.append((device_id, stream.code, ts))
        if dev.sensor_range.bad_ or dev.sensor_stuck.stuck_:
            # Impossible or frozen values would mislead the physics: withhold them.
            reading = _withheld(reading, dev.sensor_range.bad_ + dev.sensor_stuck.stuck_)
        for detector, stream, latching in dev.pairs:
            finding = detector.update(reading)
            if stream is None:
                if finding is None:
                    continue
                stream = self._stream(dev, finding.fault_code)
            if finding is not None or stream.is_open or stream.window:
                was_open = stream.is_open
                out = stream.observe(ts, finding, latching and detector.latched_)
                if out is not None:
                    found.append(out)
                elif was_open and not stream.is_open:
                    self.cleared.append((device_id, stream.code, ts))
        features = dev.features
        if features is not None:
            closed = features.add(ts, metrics)
            if closed is not None:
                self._pending.append((device_id, closed[0], closed[1]))
        return found

    def process_event(self, device_type: DeviceType, event: ApplianceEvent) -> list[Anomaly]:
        """An error code the appliance reported on its events topic."""
        dev = self._device(event.device_id, device_type)
        finding = dev.errors.update_event(event)
        if finding is None:
            return []
        stream = self._stream(dev, finding.fault_code)
        out = stream.observe(event.ts, finding, event=True)
        if stream.is_open and not self._fed_per_reading(dev, finding.fault_code):
            self._event_open.add((event.device_id, finding.fault_code))
        return [] if out is None else [out]

    def process_status(
        self, device_type: DeviceType, device_id: str, *, online: bool
    ) -> list[Anomaly]:
        """The device's status topic: `online`, or `offline` (its MQTT last will). A will
        shortens the silence that counts as offline; the verdict comes at `advance`."""
        dev = self._device(device_id, device_type)
        dev.offline.status(online, heard_at=dev.heard)
        return []

    def register(
        self, device_id: str, device_type: DeviceType, *, model: str | None = None
    ) -> None:
        """Tell the engine a device's model: the fleet model compares like with like, and
        where the model has its own profile the device's detectors are rebuilt on it
        (from their state, so nothing learned is lost)."""
        dev = self._device(device_id, device_type)
        if dev.group == model:
            return
        before = self._profile(device_type, dev.group), self._health(device_type, dev.group)
        dev.group = model
        after = self._profile(device_type, model), self._health(device_type, model)
        if after[0] is not before[0] or after[1] is not before[1]:
            self._devices[device_id] = self._build(device_type, self._device_state(dev))

    def set_model_specs(self, specs: Iterable[DeviceModelSpec]) -> list[str]:
        """The whole device-model catalog: judge each model's devices on its entry from
        now on (rebuilt from their state, so nothing learned is lost); models no longer in
        it go back to their type's profiles. An entry that cannot apply to its type is
        skipped; returns the errors, one line each."""
        errors = []
        changed = set(self.model_health) | set(self._catalog_models)
        self.model_health = {}
        self.model_profiles = dict(self._builtin_profiles)
        self._catalog_models = set()
        for spec in specs:
            detector_set = DETECTOR_SETS.get(spec.type)
            try:
                health = model_health(spec, self.health[spec.type])
                profile = (
                    model_profile(spec, detector_set, self.profiles[spec.type])
                    if detector_set is not None
                    else None
                )
            except SpecError as exc:
                errors.append(f"device model {spec.model}: {exc}")
                continue
            self.model_health[spec.model] = health
            if profile is not None:
                self.model_profiles[spec.model] = profile
                self._catalog_models.add(spec.model)
            changed.add(spec.model)
        for device_id, dev in list(self._devices.items()):
            if dev.group in changed:
                self._devices[device_id] = self._build(dev.type, self._device_state(dev))
        return errors

    def advance(self, watermark: float | None = None) -> list[Anomaly]:
        """Move event time on: call once per batch. Without `watermark` the engine uses
        the fleet's own (robust to a device with a skewed clock); a caller that knows
        event time better (a replay) passes it. Every `scan_every_s` of event time this
        finds offline devices, expires event-fed alarms and scores the fleet model."""
        if watermark is None:
            now = self._watermark.advance(devices=len(self._devices))
        else:
            now = max(self._watermark.value, watermark)
            self._watermark.value = now
            self._watermark.ahead = {d: ts for d, ts in self._watermark.ahead.items() if ts > now}
        if now < self._next_scan or now == NEVER:
            return []
        self._next_scan = now - now % self.scan_every_s + self.scan_every_s
        found = self._score_pending()
        found += self._scan_offline(now)
        found += self._tick_event_streams(now)
        return found

    @property
    def watermark(self) -> float | None:
        value = self._watermark.value
        return None if value == NEVER else value

    @property
    def device_count(self) -> int:
        return len(self._devices)

    def take_cleared(self) -> list[tuple[str, FaultCode, float]]:
        """The alarms that closed (their fault's clear condition held) since the last call."""
        cleared = list(self.cleared)
        self.cleared.clear()
        return cleared

    def clear_status(self, device_id: str, code: FaultCode) -> ClearStatus | None:
        """Whether `code` still shows on the device (None: the engine has never seen it).

        A fault shows while its alarm is open: each detector keeps its finding latched
        until its own clear condition holds (a compressor cycling again and the cabinet
        back in its band; a freezer back at its normal), and the alarm closes only after
        that has held for the fault's clear hold."""
        dev = self._devices.get(device_id)
        if dev is None:
            return None
        stream = dev.offline_stream if code is _OFFLINE else dev.streams.get(code)
        if stream is None:
            return ClearStatus(False, None, None, "the detectors never raised it")
        if stream.is_open:
            detail = stream.last.summary if stream.last is not None else str(code)
            return ClearStatus(True, stream.last_present_at, None, detail)
        return ClearStatus(False, stream.last_present_at, stream.closed_at, "cleared")

    def reset(self, device_id: str) -> None:
        """Forget everything about one device (its detectors raised): it learns afresh."""
        self._devices.pop(device_id, None)
        self._watermark.ahead.pop(device_id, None)
        self._pending = [item for item in self._pending if item[0] != device_id]
        self._event_open = {key for key in self._event_open if key[0] != device_id}

    # -- building ---------------------------------------------------------------------

    def _device(self, device_id: str, device_type: DeviceType) -> _Device:
        dev = self._devices.get(device_id)
        if dev is None or dev.type is not device_type:
            dev = self._add(device_id, device_type)
        return dev

    def _add(self, device_id: str, device_type: DeviceType) -> _Device:
        dev = self._build(device_type, {})
        self._devices[device_id] = dev
        return dev

    def _build(self, device_type: DeviceType, saved: Mapping[str, Any]) -> _Device:
        dev = _Device(device_type)
        health = self._health(device_type, saved.get("group"))
        states = saved.get("detectors", {})
        detector_set = DETECTOR_SETS.get(device_type)
        if detector_set is not None:
            profile = self._profile(device_type, saved.get("group"))
            dev.detectors.update(detector_set.build(profile, states))
        for name, cls in HEALTH_DETECTORS.items():
            dev.detectors[name] = (
                cls.from_state(health, states[name]) if name in states else cls(health)
            )
        streams = saved.get("streams", {})
        for code_name, stream_state in streams.items():
            code = FaultCode(code_name)
            dev.streams[code] = AlarmStream.from_state(
                code, policy_for(code, self.policies), stream_state
            )
        health_names = set(HEALTH_DETECTORS)
        dev.health_pairs = self._pairs(
            dev, [d for n, d in dev.detectors.items() if n in health_names]
        )
        dev.pairs = self._pairs(dev, [d for n, d in dev.detectors.items() if n not in health_names])
        dev.sensor_range = dev.detectors["sensor_range"]
        dev.sensor_stuck = dev.detectors["sensor_stuck"]
        dev.offline = OfflineDetector.from_state(health, saved.get("offline", {}))
        dev.offline_stream = self._stream(dev, _OFFLINE)
        dev.unclassified = self._stream(dev, _UNCLASSIFIED)
        dev.errors = ErrorCodeDetector.from_state(
            self.error_codes.get(device_type, {}), saved.get("errors", {})
        )
        if self.fleet_model is not None and health.fleet_metrics:
            dev.features = health.hourly_features()
            if "features" in saved:
                dev.features.restore(saved["features"])
        dev.group = saved.get("group")
        last_ts = saved.get("last_ts")
        dev.last_ts = NEVER if last_ts is None else float(last_ts)
        heard = saved.get("heard")
        dev.heard = NEVER if heard is None else float(heard)
        return dev

    def _health(self, device_type: DeviceType, model: str | None) -> HealthProfile:
        """The health profile a device is judged on: its model's if the catalog has it."""
        specific = self.model_health.get(model or "")
        return specific if specific is not None else self.health[device_type]

    def _profile(self, device_type: DeviceType, model: str | None) -> object:
        """The profile a device's own detectors use: its model's if that fits, else its type's."""
        profile = self.profiles[device_type]
        specific = self.model_profiles.get(model or "")
        return specific if isinstance(specific, type(profile)) else profile

    def _pairs(
        self, dev: _Device, detectors: list[Any]
    ) -> list[tuple[Any, AlarmStream | None, bool]]:
        pairs: list[tuple[Any, AlarmStream | None, bool]] = []
        by_code: dict[FaultCode, list[Any]] = {}
        for detector in detectors:
            declared = getattr(type(detector), "fault_code", None)
            if isinstance(declared, FaultCode):
                by_code.setdefault(declared, []).append(detector)
            else:
                pairs.append((detector, None, False))
        for code, found in by_code.items():
            detector = found[0] if len(found) == 1 else _Combined(found)
            pairs.append((detector, self._stream(dev, code), hasattr(detector, "latched_")))
        return pairs

    def _stream(self, dev: _Device, code: FaultCode) -> AlarmStream:
        stream = dev.streams.get(code)
        if stream is None:
            stream = dev.streams[code] = AlarmStream(code, policy_for(code, self.policies))
        return stream

    @staticmethod
    def _fed_per_reading(dev: _Device, code: FaultCode) -> bool:
        return any(
            stream is not None and stream.code is code
            for _, stream, _ in dev.pairs + dev.health_pairs
        )

    # -- periodic work ----------------------------------------------------------------

    def _scan_offline(self, now: float) -> list[Anomaly]:
        found = []
        for device_id, dev in self._devices.items():
            heard = dev.heard
            stream = dev.offline_stream
            if heard == NEVER or (now - heard <= dev.offline.min_limit and not stream.is_open):
                continue
            finding = dev.offline.check(device_id, heard_at=heard, watermark=now)
            if finding is not None or stream.is_open or stream.window:
                was_open = stream.is_open
                out = stream.observe(now, finding)
                if out is not None:
                    found.append(out)
                elif was_open and not stream.is_open:
                    self.cleared.append((device_id, _OFFLINE, now))
        return found

    def _tick_event_streams(self, now: float) -> list[Anomaly]:
        found = []
        for key in sorted(self._event_open):
            device_id, code = key
            stream = self._devices[device_id].streams[code]
            out = stream.tick(now)
            if out is not None:
                found.append(out)
            if not stream.is_open:
                self._event_open.discard(key)
                self.cleared.append((device_id, code, now))
        return found

    def _score_pending(self) -> list[Anomaly]:
        model = self.fleet_model
        pending, self._pending = self._pending, []
        if model is None or not pending:
            return []
        batches: dict[str, list[tuple[str, float, list[float]]]] = {}
        for item in pending:
            dev = self._devices[item[0]]
            group = dev.group if dev.group in model.forests_ else dev.type.value
            if group in model.forests_:
                batches.setdefault(group, []).append(item)
        found = []
        for group, items in batches.items():
            scores, flagged = model.outliers(group, np.array([row for _, _, row in items]))
            for (device_id, hour, row), score, flag in zip(
                items, scores.tolist(), flagged.tolist(), strict=True
            ):
                dev = self._devices[device_id]
                end = hour + 3600.0
                finding = None
                if flag and not self._explained(dev, end):
                    names = self.health[dev.type].feature_names()
                    finding = model.finding(
                        device_id=device_id,
                        group=group,
                        hour_start=hour,
                        row=row,
                        score=score,
                        names=names,
                    )
                stream = dev.unclassified
                if finding is not None or stream.is_open or stream.window:
                    out = stream.observe(end, finding)
                    if out is not None:
                        found.append(out)
        return found

    def _explained(self, dev: _Device, ts: float) -> bool:
        """Another fault of the device is open, or closed recently: it explains the oddity."""
        window = self.health[dev.type].explained_for_s
        for code, stream in dev.streams.items():
            if code is _UNCLASSIFIED:
                continue
            if stream.is_open or stream.window:
                return True
            if stream.closed_at is not None and ts - stream.closed_at < window:
                return True
        return False

    # -- hand-off ---------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the engine knows, JSON-ready: detectors, alarm streams, watermark."""
        devices = {device_id: self._device_state(dev) for device_id, dev in self._devices.items()}
        return {
            "version": STATE_VERSION,
            "watermark": self._watermark.state(),
            "next_scan": None if self._next_scan == NEVER else self._next_scan,
            "pending": [[d, h, row] for d, h, row in self._pending],
            "event_open": sorted([d, c.value] for d, c in self._event_open),
            "devices": devices,
        }

    @staticmethod
    def _device_state(dev: _Device) -> dict[str, Any]:
        saved: dict[str, Any] = {
            "type": dev.type.value,
            "group": dev.group,
            "last_ts": None if dev.last_ts == NEVER else dev.last_ts,
            "heard": None if dev.heard == NEVER else dev.heard,
            "detectors": {name: d.state() for name, d in dev.detectors.items()},
            "streams": {
                code.value: s.state() for code, s in dev.streams.items() if _worth_saving(s)
            },
            "offline": dev.offline.state(),
            "errors": dev.errors.state(),
        }
        if dev.features is not None:
            saved["features"] = dev.features.state()
        return saved

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any],
        profiles: Mapping[DeviceType, object] | None = None,
        **settings: Any,
    ) -> DetectionEngine:
        """An engine that carries on exactly where the one that saved `state` stopped.
        `profiles` and `settings` (health, policies, error_codes, fleet_model,
        scan_every_s) are configuration, passed as to the constructor."""
        if state.get("version") != STATE_VERSION:
            raise DetectionStateError(
                f"detection state version {state.get('version')!r}; "
                f"this build reads version {STATE_VERSION}"
            )
        engine = cls(profiles, **settings)
        for device_id, saved in state.get("devices", {}).items():
            engine._devices[device_id] = engine._build(DeviceType(saved["type"]), saved)
        engine._watermark = FleetWatermark.from_state(state.get("watermark", {}))
        next_scan = state.get("next_scan")
        engine._next_scan = NEVER if next_scan is None else float(next_scan)
        engine._pending = [(str(d), float(h), list(row)) for d, h, row in state.get("pending", [])]
        engine._event_open = {(str(d), FaultCode(c)) for d, c in state.get("event_open", [])}
        return engine


def _withheld(reading: Reading, metrics: tuple[str, ...]) -> Reading:
    kept = {k: v for k, v in reading.metrics.items() if k not in metrics}
    return Reading(reading.device_id, reading.ts, reading.seq, kept)


def _worth_saving(stream: AlarmStream) -> bool:
    return stream.is_open or stream.window != 0 or stream.closed_at is not None


class _Combined:
    """Several per-reading detectors that report the same fault code, seen as one."""

    def __init__(self, detectors: list[Any]) -> None:
        self.detectors = detectors

    def update(self, reading: Reading) -> Anomaly | None:
        found = None
        for detector in self.detectors:
            finding = detector.update(reading)
            if found is None:
                found = finding
        return found

    @property
    def latched_(self) -> bool:
        return any(getattr(d, "latched_", False) for d in self.detectors)
