"""Running tallies of what each device sent (newest reading, count, gaps in `seq`), kept in
memory by the ingest thread and folded into the database by the field-service loop."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from sqlalchemy.orm import Session

from domain import Reading
from storage import device_presence
from storage.device_presence import PresenceDelta


class DevicePresence:
    """`observe(readings)` per stored batch (cheap); `fold(session)` now and then.

    Loss counts readings whose `seq` was skipped within one run of the firmware: a `seq`
    lower than the highest seen, with a newer timestamp, is a reboot (a new epoch), not loss.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # device -> [highest seq, newest ts, newest arrival, received, missing] since the fold
        self._pending: dict[str, list[float]] = {}
        # device -> (highest seq, newest ts) across folds, for gap counting
        self._seqs: dict[str, tuple[int, float]] = {}

    def observe(self, readings: Sequence[Reading]) -> None:
        now = time.time()
        with self._lock:
            for reading in readings:
                highest, newest = self._seqs.get(reading.device_id, (reading.seq - 1, 0.0))
                missing = 0
                if reading.seq > highest:
                    missing = reading.seq - highest - 1
                    highest = reading.seq
                elif reading.ts > newest:  # rebooted: seq starts again
                    highest = reading.seq
                self._seqs[reading.device_id] = (highest, max(newest, reading.ts))
                tally = self._pending.get(reading.device_id)
                if tally is None:
                    self._pending[reading.device_id] = [reading.ts, now, 1, missing]
                else:
                    tally[0] = max(tally[0], reading.ts)
                    tally[1] = now
                    tally[2] += 1
                    tally[3] += missing

    def fold(self, *, session: Session, now: float) -> int:
        """Add what was seen since the last fold to the database; returns how many devices.

        If the caller's transaction fails, the tallies are lost for that interval only (the
        next readings carry on); they are counts for a dashboard, not a ledger.
        """
        with self._lock:
            pending, self._pending = self._pending, {}
        deltas = {
            device_id: PresenceDelta(
                last_seen_ts=tally[0],
                last_arrival_at=tally[1],
                received=int(tally[2]),
                missing=int(tally[3]),
            )
            for device_id, tally in pending.items()
        }
        return device_presence.fold(session=session, deltas=deltas, now=now)
