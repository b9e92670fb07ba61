"""Readings lost upstream, seen as gaps in `seq`: a rate over a sliding window, and a
warning that names the likely cause when the loss is more than occasional."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

CAUSE = (
    "the likely cause is the broker's queue for this subscriber: Mosquitto silently drops "
    "QoS 1 messages past max_queued_messages (default 1000) when a subscriber falls behind; "
    "raise max_queued_messages and max_inflight_messages (see deploy/mosquitto.conf), or look "
    "at the devices' network"
)


class LossWindow:
    """Received and lost readings over the last `window_s` seconds (wall clock), in buckets.

    `rate()` is lost / (received + lost). `note()` logs a warning (at most once per
    `warn_every_s`) when the rate is above `warn_rate` over at least `min_expected` readings.
    """

    def __init__(
        self,
        *,
        window_s: float = 60.0,
        buckets: int = 12,
        warn_rate: float = 0.01,
        min_expected: int = 200,
        warn_every_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bucket_s = window_s / buckets
        self.buckets = buckets
        self.warn_rate = warn_rate
        self.min_expected = min_expected
        self.warn_every_s = warn_every_s
        self.clock = clock
        self.warnings = 0
        self._lock = threading.Lock()
        self._counts: deque[tuple[int, int, int, set[str]]] = deque()  # (bucket, recv, lost, ids)
        self._last_warning = -float("inf")

    def add(self, *, received: int, lost: int, devices: set[str] | None = None) -> None:
        with self._lock:
            bucket = int(self.clock() // self.bucket_s)
            self._trim(bucket)
            if self._counts and self._counts[-1][0] == bucket:
                _, r, lo, ids = self._counts[-1]
                self._counts[-1] = (bucket, r + received, lo + lost, ids | (devices or set()))
            else:
                self._counts.append((bucket, received, lost, set(devices or ())))

    def totals(self) -> tuple[int, int, int]:
        """(received, lost, devices with gaps) within the window."""
        with self._lock:
            self._trim(int(self.clock() // self.bucket_s))
            received = sum(c[1] for c in self._counts)
            lost = sum(c[2] for c in self._counts)
            ids: set[str] = set()
            for c in self._counts:
                ids |= c[3]
            return received, lost, len(ids)

    def rate(self) -> float:
        received, lost, _ = self.totals()
        expected = received + lost
        return lost / expected if expected else 0.0

    def note(self) -> bool:
        """Warn if loss is more than occasional; True when a warning was logged."""
        received, lost, devices = self.totals()
        expected = received + lost
        if expected < self.min_expected or lost <= self.warn_rate * expected:
            return False
        now = self.clock()
        if now - self._last_warning < self.warn_every_s:
            return False
        self._last_warning = now
        self.warnings += 1
        log.warning(
            "ingest: %.1f%% of readings lost upstream in the last %.0f s (%d of %d, seq gaps "
            "from %d devices); %s",
            100.0 * lost / expected,
            self.bucket_s * self.buckets,
            lost,
            expected,
            devices,
            CAUSE,
        )
        return True

    def _trim(self, bucket: int) -> None:
        while self._counts and self._counts[0][0] <= bucket - self.buckets:
            self._counts.popleft()
