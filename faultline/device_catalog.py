"""The device-model catalog between the database and detection: why an entry cannot apply
(for the API), and the entries to hand the engine whenever the catalog changed."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DETECTOR_SETS
from detection.model_catalog import SpecError, check
from detection.profiles.health import HEALTH_PROFILES
from domain.device_models import DeviceModelSpec
from storage import device_models


def spec_error(spec: DeviceModelSpec) -> str | None:
    """Why `spec` cannot apply to its type's detectors, or None."""
    try:
        check(spec, DETECTOR_SETS, HEALTH_PROFILES)
    except SpecError as exc:
        return str(exc)
    return None


class CatalogWatch:
    """Hands the pipeline the catalog's entries when it changed (checked every `every_s`)."""

    def __init__(self, sessions: sessionmaker[Session], every_s: float = 5.0) -> None:
        self.sessions = sessions
        self.every_s = every_s
        self._checked_at = float("-inf")
        self._version: tuple[int, float] | None = None

    def changed(self) -> list[DeviceModelSpec] | None:
        """Every entry, if the catalog changed since the last call that returned them."""
        if time.monotonic() - self._checked_at < self.every_s:
            return None
        self._checked_at = time.monotonic()
        with self.sessions() as session:
            version = device_models.version(session=session)
            if version == self._version:
                return None
            rows = device_models.list_all(session=session)
            specs = [device_models.to_spec(row) for row in rows]
        self._version = version
        return specs
