"""Per-device sequence tracking: drop true duplicates, follow reboots, count readings lost.

DESIGN.md ("Sequence numbers, reboots, loss"): `seq` increases per device within one run
of its firmware (an *epoch*). A reading whose `seq` is not above the epoch's highest but
whose `ts` is newer than anything the device sent starts a new epoch (the device rebooted
and counts from 1 again): it is kept, never taken for a duplicate. A true duplicate has
the same `(epoch, seq)` and the same `ts`. Gaps in `seq` within an epoch are readings
lost upstream; a late reading that fills a gap gives one back, never more than were
counted, so the count never goes negative.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    """What one reading is to its device's sequence."""

    NEW = "new"  # the next reading (perhaps after a gap)
    LATE = "late"  # older than the newest, not seen before: fills a gap or an earlier epoch
    DUPLICATE = "duplicate"  # the same (epoch, seq) and ts as one already seen
    NEW_EPOCH = "new_epoch"  # the device rebooted: seq started again


@dataclass(frozen=True, slots=True)
class Observation:
    verdict: Verdict
    missing: int = 0  # readings newly known lost (> 0), or recovered by a late one (< 0)


@dataclass
class _DeviceSeqs:
    epoch: int
    highest: int  # highest seq of the current epoch
    newest_ts: float  # newest ts the device ever sent
    outstanding: int = 0  # readings counted missing and not yet recovered
    # seq -> ts of the current epoch's recent readings (a bounded window).
    recent: dict[int, float] = field(default_factory=dict)
    order: deque[int] = field(default_factory=deque)


class SeqTracker:
    """Remembers the last `window` readings of each device's current epoch.

    >>> tracker = SeqTracker()
    >>> [tracker.observe("d", seq, ts).verdict.value for seq, ts in [(1, 10), (2, 20), (2, 20)]]
    ['new', 'new', 'duplicate']
    >>> tracker.observe("d", 5, 50).missing   # 3 and 4 never came
    2
    >>> tracker.observe("d", 1, 60).verdict.value   # rebooted: counts from 1 again
    'new_epoch'
    """

    def __init__(self, window: int = 512) -> None:
        self.window = window
        self._devices: dict[str, _DeviceSeqs] = {}

    def observe(self, device_id: str, seq: int, ts: float) -> Observation:
        state = self._devices.get(device_id)
        if state is None:
            state = self._devices[device_id] = _DeviceSeqs(epoch=0, highest=seq, newest_ts=ts)
            self._remember(state, seq, ts)
            return Observation(Verdict.NEW)
        seen_ts = state.recent.get(seq)
        if seen_ts == ts:
            return Observation(Verdict.DUPLICATE)
        if seq > state.highest:
            missing = seq - state.highest - 1
            state.highest = seq
            state.outstanding += missing
            state.newest_ts = max(state.newest_ts, ts)
            self._remember(state, seq, ts)
            return Observation(Verdict.NEW, missing)
        if ts > state.newest_ts:
            # A seq already used (or below the highest) with a newer time: a reboot.
            state.epoch += 1
            state.highest = seq
            state.newest_ts = ts
            state.outstanding = 0
            state.recent.clear()
            state.order.clear()
            self._remember(state, seq, ts)
            return Observation(Verdict.NEW_EPOCH)
        # Older than the newest and not a known duplicate: a straggler of this epoch
        # (filling a gap counted before) or of an earlier one (a backlog uploaded late).
        if seen_ts is not None:
            return Observation(Verdict.LATE)  # an earlier epoch's reading with this seq
        recovered = 0
        if state.outstanding > 0:
            recovered = 1
            state.outstanding -= 1
        self._remember(state, seq, ts)
        return Observation(Verdict.LATE, -recovered)

    def _remember(self, state: _DeviceSeqs, seq: int, ts: float) -> None:
        if seq not in state.recent:
            state.order.append(seq)
        state.recent[seq] = ts
        if len(state.order) > self.window:
            state.recent.pop(state.order.popleft(), None)
