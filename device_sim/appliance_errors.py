"""Error codes appliances raise themselves (fridge E21, washer E-OE) when a fault shows.

Each device type lists, per fault, the code its controller raises and how long after the
onset it notices (`DeviceKind.errors`); the appliance publishes it on its events topic,
and again every `repeat_s` while the fault lasts.
"""

from __future__ import annotations

from collections.abc import Iterable

from device_sim.kinds import DeviceKind, SimUnit
from device_sim.messages import Delivery
from domain.wire import ApplianceEvent


def error_events(
    units: Iterable[tuple[SimUnit, DeviceKind]], *, start_ts: float, end_ts: float
) -> list[Delivery]:
    """Every error code the units raise in `[start_ts, end_ts)`, in event-time order."""
    out: list[Delivery] = []
    for unit, kind in units:
        fault = unit.fault
        if fault is None or fault.code not in kind.errors:
            continue
        error = kind.errors[fault.code]
        ts = fault.onset_ts + error.delay_s
        while ts < end_ts:
            if ts >= start_ts:
                at = round(ts, 3)
                out.append(
                    Delivery(at, ApplianceEvent(unit.device_id, at, error.code, error.message))
                )
            if error.repeat_s is None:
                break
            ts += error.repeat_s
    out.sort(key=lambda d: d.at)
    return out
