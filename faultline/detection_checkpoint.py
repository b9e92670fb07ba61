"""Detection state that survives a restart: the engine is saved to the database every
`every_s` seconds (wall clock) between batches, and once more when the service stops;
a starting service resumes from it.

The checkpoint is taken between batches, after the batch's tickets are committed, so it
never holds half a batch. A crash loses at most `every_s` of *detection* history (the
readings themselves are stored and acknowledged); detectors treat that as a gap.
A checkpoint this build cannot read (another state version, damaged data) is logged and
set aside: the service starts with a fresh engine rather than not at all.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from detection.engine import STATE_VERSION, DetectionEngine, DetectionStateError
from storage import detection_checkpoints
from storage.detection_checkpoints import Checkpoint

log = logging.getLogger(__name__)


class DetectionCheckpointer:
    """Saves and restores one engine's state under `name` (one name per ingest worker)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        name: str,
        every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.name = name
        self.every_s = every_s
        self.clock = clock
        self.saves = 0
        self.failures = 0
        self.last_error: str | None = None
        self.restored_devices = 0
        self._last_save = clock()

    def restore(self, **engine_settings: Any) -> DetectionEngine:
        """The saved engine with `engine_settings` (fleet_model, policies, …), or a fresh one."""
        with self.sessions() as session:
            saved = detection_checkpoints.load(session=session, name=self.name)
        if saved is None:
            return DetectionEngine(**engine_settings)
        try:
            state = json.loads(gzip.decompress(saved.data))
            engine = DetectionEngine.from_state(state, **engine_settings)
        except (DetectionStateError, OSError, ValueError, KeyError, TypeError) as exc:
            self.last_error = f"checkpoint {self.name!r} not resumed: {exc}"
            log.warning("%s; starting detection afresh", self.last_error)
            return DetectionEngine(**engine_settings)
        self.restored_devices = engine.device_count
        log.info(
            "detection resumed from checkpoint %r: %d devices, event time %s",
            self.name,
            engine.device_count,
            saved.watermark,
        )
        return engine

    def after_batch(self, engine: DetectionEngine) -> None:
        """Save if `every_s` has passed since the last save; never raises."""
        if self.clock() - self._last_save >= self.every_s:
            self.save(engine)

    def save(self, engine: DetectionEngine) -> bool:
        """Save now; a failure (the database away) is logged, counted and retried later."""
        self._last_save = self.clock()
        try:
            data = gzip.compress(json.dumps(engine.state(), separators=(",", ":")).encode(), 3)
            checkpoint = Checkpoint(
                self.name, STATE_VERSION, time.time(), engine.watermark, engine.device_count, data
            )
            with self.sessions.begin() as session:
                detection_checkpoints.save(session=session, checkpoint=checkpoint)
        except Exception as exc:  # the service outlives a database outage
            self.failures += 1
            self.last_error = f"checkpoint {self.name!r} not saved: {exc}"
            log.warning(self.last_error)
            return False
        self.saves += 1
        return True
