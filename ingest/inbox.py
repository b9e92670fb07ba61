"""The bounded hand-over from the MQTT network thread to the ingest worker.

`queue.Queue` takes a lock and signals a condition on every put and get: at tens of
thousands of messages a second that is a sizeable share of ingest's time. Here a put is a
deque append (atomic in CPython) and the worker drains many at once; the locks are taken
only when one side must wait (the worker for work, the network thread for room).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """At most `maxsize` items between one producer and one consumer.

    >>> box: Inbox[int] = Inbox(maxsize=2)
    >>> box.put(1, timeout=0.1), box.put(2, timeout=0.1), box.put(3, timeout=0.01)
    (True, True, False)
    >>> box.take(10, wait_s=0.1, gather_s=0.0)
    [1, 2]
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._has_items = threading.Condition(self._lock)
        self._has_room = threading.Condition(self._lock)
        self._consumer_waiting = False
        self._producer_waiting = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T, timeout: float) -> bool:
        """Add `item`; False if the inbox stayed full for `timeout` seconds."""
        if len(self._items) >= self.maxsize:
            with self._lock:
                self._producer_waiting = True
                if not self._has_room.wait_for(
                    lambda: len(self._items) < self.maxsize, timeout
                ):
                    return False
                self._producer_waiting = False
        self._items.append(item)
        if self._consumer_waiting:
            with self._lock:
                self._has_items.notify()
        return True

    def take(self, limit: int, *, wait_s: float, gather_s: float) -> list[T]:
        """Up to `limit` items: waits up to `wait_s` for the first, then up to `gather_s`
        more for others to arrive (a batch fills under load, and is not held when idle)."""
        if not self._items and not self._wait(wait_s):
            return []
        taken = self._drain(limit)
        deadline = time.monotonic() + gather_s
        while len(taken) < limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (not self._items and not self._wait(remaining)):
                break
            taken += self._drain(limit - len(taken))
        return taken

    def _drain(self, limit: int) -> list[T]:
        items = self._items
        taken = [items.popleft() for _ in range(min(limit, len(items)))]
        if self._producer_waiting:
            with self._lock:
                self._has_room.notify()
        return taken

    def _wait(self, timeout: float) -> bool:
        with self._lock:
            self._consumer_waiting = True
            try:
                return self._has_items.wait_for(lambda: bool(self._items), timeout)
            finally:
                self._consumer_waiting = False
