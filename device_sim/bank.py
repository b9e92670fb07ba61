"""What every vectorised bank of simulated units shares: its event-time report clock."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Generic, TypeVar

U = TypeVar("U")


class UnitBank(Generic[U]):
    """Steps `units` together from `start_ts`, one report per `interval_s`.

    Each report interval is split into `substeps` internal steps of `dt` seconds (at most
    `max_step_s`, a whole number per report); `seq` counts the reports produced so far,
    which is each device's seq of the latest tick.
    """

    def __init__(
        self, units: Sequence[U], *, start_ts: float, interval_s: float, max_step_s: float
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.units = list(units)
        self.start_ts = float(start_ts)
        self.interval_s = float(interval_s)
        self.substeps = max(1, math.ceil(interval_s / max_step_s))
        self.dt = self.interval_s / self.substeps
        self.seq = 0
