"""Error codes appliances raise themselves (fridge E21, washer E-OE), from their own signals.

An appliance's controller checks its own readings (`DeviceKind.errors`: a check per code,
`device_sim/error_checks.py`) and raises the code on its events topic once the check has
failed for the code's hold time; it knows nothing of the injected fault, so a healthy
unit whose signals cross the line raises it too, and a faulty one only once the physics
gets there. Real controllers are imperfect as well, at seeded rates (`ErrorRates`): some
units never raise a code their fault should trip (firmware without the check, a masked
input), and any unit now and then raises a spurious one (a glitch, a power dip).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from device_sim.kinds import ApplianceError, DeviceKind, SimUnit
from device_sim.messages import Delivery
from domain.wire import ApplianceEvent

DAY_S = 86400.0
_STREAM_ERRORS = 21  # the second word of a unit's generator seed for its controller's draws


@dataclass(frozen=True, slots=True)
class ErrorRates:
    """How imperfect the controllers are: a share of (unit, code) pairs whose check never
    fires, and spurious codes per device-day (a Poisson process per unit)."""

    missed: float = 0.3
    false_per_device_day: float = 1 / 2000


class _Check:
    """One unit's controller check for one code, and how long it has been failing."""

    __slots__ = ("error", "last", "since")

    def __init__(self, error: ApplianceError) -> None:
        self.error = error
        self.since: float | None = None
        self.last: float | None = None

    def observe(self, ts: float, metrics: Mapping[str, float]) -> bool:
        """True when the code is raised at `ts`."""
        error = self.error
        if not error.trips(metrics):
            self.since = None
            return False
        if self.since is None:
            self.since = ts
        if ts - self.since < error.hold_s:
            return False
        if self.last is not None and (error.repeat_s is None or ts - self.last < error.repeat_s):
            return False
        self.last = ts
        return True


class ApplianceControllers:
    """The controllers of a fleet's appliances: fed every report, they raise error codes.

    `observe` takes one unit's report as its physics made it (before any failing sensor
    or the network); `due` hands over the codes raised before an event time, spurious
    ones (drawn up front for `[start_ts, end_ts)`) included, in time order.
    """

    def __init__(
        self,
        units: Iterable[tuple[SimUnit, DeviceKind]],
        *,
        start_ts: float,
        end_ts: float,
        rates: ErrorRates | None = None,
    ) -> None:
        rates = rates or ErrorRates()
        self.checks: dict[str, list[_Check]] = {}
        self.pending: list[tuple[float, int, ApplianceEvent]] = []
        self._order = 0
        for unit, kind in units:
            errors = list(kind.errors.values())
            if not errors:
                continue
            rng = np.random.default_rng([unit.seed, _STREAM_ERRORS])
            missed = rng.random(len(errors)) < rates.missed
            kept = [_Check(e) for e, m in zip(errors, missed, strict=True) if not m]
            if kept:
                self.checks[unit.device_id] = kept
            for ts, error in _spurious(rng, errors, start_ts, end_ts, rates):
                self._push(ApplianceEvent(unit.device_id, ts, error.code, error.message))

    def observe(self, device_id: str, ts: float, metrics: Mapping[str, float]) -> None:
        checks = self.checks.get(device_id)
        if checks is None:
            return
        for check in checks:
            if check.observe(ts, metrics):
                error = check.error
                self._push(ApplianceEvent(device_id, round(ts, 3), error.code, error.message))

    def due(self, before: float) -> Iterator[Delivery]:
        """The codes raised before `before`, in time order (then in the order raised)."""
        pending = self.pending
        while pending and pending[0][0] < before:
            at, _, event = heapq.heappop(pending)
            yield Delivery(at, event)

    def _push(self, event: ApplianceEvent) -> None:
        self._order += 1
        heapq.heappush(self.pending, (event.ts, self._order, event))


def _spurious(
    rng: np.random.Generator,
    errors: list[ApplianceError],
    start_ts: float,
    end_ts: float,
    rates: ErrorRates,
) -> Iterator[tuple[float, ApplianceError]]:
    if rates.false_per_device_day <= 0:
        return
    mean_gap_s = DAY_S / rates.false_per_device_day
    ts = start_ts + float(rng.exponential(mean_gap_s))
    while ts < end_ts:
        yield round(ts, 3), errors[int(rng.integers(len(errors)))]
        ts += float(rng.exponential(mean_gap_s))
