"""A partition's detection state and the log position it covers, saved together.

Saved as checkpoint `partition-07` (the engine state of that partition's devices, plus
the stream sequence of the last message it has seen), only between batches that were
stored in full: everything up to the position is stored and reflected in the state. The
worker that takes the partition over restores the state and reads the log again from
the next message, so detection carries on as if nobody had stopped (the store takes the
repeated readings once).
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from detection.engine import STATE_VERSION, DetectionEngine, DetectionStateError
from storage import detection_checkpoints
from storage.detection_checkpoints import Checkpoint

log = logging.getLogger(__name__)


def checkpoint_name(partition: int) -> str:
    return f"partition-{partition:02d}"


class PartitionCheckpoint:
    """Restore and save one partition's engine with its position."""

    def __init__(self, sessions: sessionmaker[Session], *, partition: int) -> None:
        self.sessions = sessions
        self.name = checkpoint_name(partition)
        self.saves = 0
        self.failures = 0
        self.last_error: str | None = None

    def restore(self, **engine_settings: Any) -> tuple[DetectionEngine, int]:
        """(engine, position): the saved ones, or a fresh engine at position 0 (read the
        partition from its oldest message)."""
        with self.sessions() as session:
            saved = detection_checkpoints.load(session=session, name=self.name)
        if saved is None:
            return DetectionEngine(**engine_settings), 0
        try:
            body = json.loads(gzip.decompress(saved.data))
            engine = DetectionEngine.from_state(body["engine"], **engine_settings)
            position = int(body["position"])
        except (DetectionStateError, OSError, ValueError, KeyError, TypeError) as exc:
            # Detection starts afresh, but the readings are not read again from the start:
            # the position is kept when it can be read at all.
            self.last_error = f"checkpoint {self.name!r} not resumed: {exc}"
            log.warning("%s; detection of this partition starts afresh", self.last_error)
            return DetectionEngine(**engine_settings), _position_only(saved.data)
        log.info(
            "partition checkpoint %r resumed: %d devices, position %d, event time %s",
            self.name,
            engine.device_count,
            position,
            saved.watermark,
        )
        return engine, position

    def save(self, engine: DetectionEngine, position: int) -> bool:
        """Save now; a failure (the database away) is logged and counted, never raised."""
        try:
            body = {"position": position, "engine": engine.state()}
            data = gzip.compress(json.dumps(body, separators=(",", ":")).encode(), 3)
            checkpoint = Checkpoint(
                self.name, STATE_VERSION, time.time(), engine.watermark, engine.device_count, data
            )
            with self.sessions.begin() as session:
                detection_checkpoints.save(session=session, checkpoint=checkpoint)
        except Exception as exc:  # the worker outlives a database outage
            self.failures += 1
            self.last_error = f"checkpoint {self.name!r} not saved: {exc}"
            log.warning(self.last_error)
            return False
        self.saves += 1
        return True


def _position_only(data: bytes) -> int:
    try:
        return int(json.loads(gzip.decompress(data))["position"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0
