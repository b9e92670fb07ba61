"""Per-device sequence tracking: drop repeated `(device_id, seq)` and notice gaps."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class _DeviceSeqs:
    highest: int
    recent: set[int] = field(default_factory=set)
    order: deque[int] = field(default_factory=deque)


class SeqTracker:
    """Remembers the last `window` sequence numbers of each device.

    `observe(device_id, seq)` answers `(is_duplicate, missing)`: whether this seq was seen
    already, and how many seqs were skipped between the previous highest and this one (a
    gap means readings were lost upstream, e.g. a broker queue overflowed); a late reading
    below the highest answers -1, since it fills a gap counted before.
    """

    def __init__(self, window: int = 512) -> None:
        self.window = window
        self._devices: dict[str, _DeviceSeqs] = {}

    def observe(self, device_id: str, seq: int) -> tuple[bool, int]:
        state = self._devices.get(device_id)
        if state is None:
            state = self._devices[device_id] = _DeviceSeqs(highest=seq)
            self._remember(state, seq)
            return False, 0
        if seq in state.recent:
            return True, 0
        # A late reading fills a gap counted earlier: report it as one fewer missing.
        missing = seq - state.highest - 1 if seq > state.highest else -1
        state.highest = max(state.highest, seq)
        self._remember(state, seq)
        return False, missing

    def _remember(self, state: _DeviceSeqs, seq: int) -> None:
        state.recent.add(seq)
        state.order.append(seq)
        if len(state.order) > self.window:
            state.recent.discard(state.order.popleft())
