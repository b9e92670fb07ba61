"""A cached view of which devices are provisioned, for ingest's unknown-device check, and
which of them their owners took out of proactive monitoring."""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from domain.devices import DeviceType
from storage import consents, devices


class DeviceDirectory:
    """Answers a device's type from memory; reloads from the database on a miss.

    Reloads are rate-limited so a flood of messages from an unknown device cannot hammer
    the database; a device provisioned by another process is seen within `refresh_s`.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        refresh_s: float = 1.0,
        consent_refresh_s: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.refresh_s = refresh_s
        self.consent_refresh_s = consent_refresh_s
        self._types: dict[str, DeviceType] = {}
        self._models: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._unmonitored: frozenset[str] = frozenset()
        self._consent_loaded_at = float("-inf")
        self._lock = threading.Lock()

    def unmonitored(self) -> frozenset[str]:
        """Devices whose owner turned proactive monitoring off (re-read every few seconds):
        their readings are stored but not run through detection, so no ticket or alert."""
        if time.monotonic() - self._consent_loaded_at >= self.consent_refresh_s:
            with self.sessions() as session:
                self._unmonitored = frozenset(consents.unmonitored_device_ids(session=session))
            self._consent_loaded_at = time.monotonic()
        return self._unmonitored

    def lookup(self, device_id: str) -> DeviceType | None:
        found = self._types.get(device_id)
        if found is not None:
            return found
        with self._lock:
            if time.monotonic() - self._loaded_at >= self.refresh_s:
                self._reload()
        return self._types.get(device_id)

    def model(self, device_id: str) -> str | None:
        """The device's model, if it is known (no reload: ask after `lookup`)."""
        return self._models.get(device_id)

    def add(self, device_id: str, device_type: DeviceType, model: str | None = None) -> None:
        """Learn a device this process just provisioned."""
        self._types[device_id] = device_type
        if model is not None:
            self._models[device_id] = model

    def _reload(self) -> None:
        with self.sessions() as session:
            self._types = devices.types_by_id(session=session)
            self._models = devices.models_by_id(session=session)
        self._loaded_at = time.monotonic()
