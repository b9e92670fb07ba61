"""Run a fleet through event time: every device's readings, tick by tick."""

from __future__ import annotations

from collections.abc import Iterator

from device_sim.fleet import Fleet
from device_sim.fridge import METRICS, FridgeBank
from domain import Reading


def readings(
    fleet: Fleet, *, start_ts: float, duration_s: float, interval_s: float = 60.0
) -> Iterator[Reading]:
    """All devices' readings in event-time order, one report per device per `interval_s`.

    The first report is at `start_ts + interval_s` (a report covers the interval before
    it: `power_w` is that interval's mean, `door_open` whether the door opened in it);
    `seq` starts at 1 per device. The same fleet and arguments give the same readings.

    >>> from device_sim.fleet import build_fridge_fleet
    >>> fleet = build_fridge_fleet(count=2, seed=7, start_ts=1_764_000_000)
    >>> for r in readings(fleet, start_ts=1_764_000_000, duration_s=120):
    ...     print(r.device_id, r.seq, r.ts)
    fridge-0001 1 1764000060.0
    fridge-0002 1 1764000060.0
    fridge-0001 2 1764000120.0
    fridge-0002 2 1764000120.0
    """
    bank = FridgeBank(fleet.units, start_ts=start_ts, interval_s=interval_s)
    ids = [d.device_id for d in fleet.devices]
    for ts, metrics in bank.ticks(duration_s):
        seq = bank.seq
        rows = zip(*(metrics[name] for name in METRICS), strict=True)
        for device_id, row in zip(ids, rows, strict=True):
            yield Reading(device_id, ts, seq, dict(zip(METRICS, row, strict=True)))
