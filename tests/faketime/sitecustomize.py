"""Loaded by every Python process of a test run under `faketime` (scripts/test-at puts this
folder on PYTHONPATH): works around libfaketime 0.9.10 (Debian 12).

The run fakes only the calendar clock (FAKETIME_DONT_FAKE_MONOTONIC=1): with the monotonic
clock faked as well, every lock or queue wait with a timeout hangs, since glibc's
sem_clockwait is not intercepted. Not faking it makes libfaketime answer `time.sleep`
(clock_nanosleep on CLOCK_MONOTONIC with an absolute deadline) with EINVAL; sleeping on an
event's timed wait instead takes the same time and works.
"""

from __future__ import annotations

import os
import threading
import time

if "faketime" in os.environ.get("LD_PRELOAD", ""):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        threading.Event().wait(seconds)

    time.sleep = _sleep
