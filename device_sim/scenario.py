"""Run a fleet through event time: every device's readings, tick by tick, all types merged.

`readings()` is what the devices measured, in event-time order: each type's physics
(one bank per type), then failing sensors; readings an outage lost for good are absent.
`deliveries()` is what reaches the broker, in order of arrival: the same readings with
outages' backlogs uploaded late, appliance error codes, online/offline status, and the
network's imperfections (`transport`). `messages()` encodes those for MQTT.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from enum import Enum
from typing import Any

from device_sim import kinds
from device_sim.appliance_errors import ApplianceControllers, ErrorRates
from device_sim.connectivity import delivered_readings, status_changes
from device_sim.fleet import Fleet
from device_sim.messages import Delivery, Outgoing, encode
from device_sim.sensor_faults import apply_sensor_faults
from device_sim.transport import TransportConfig
from device_sim.uplink import Tick, Uplink
from domain import DeviceType, Reading

# A bank generates its inputs a window of reports at a time, for all its units at once:
# cap units x reports per window so memory stays flat however large the fleet (a fridge
# costs ~300 bytes per unit-report while its window is live).
WINDOW_UNIT_REPORTS = 250_000
_DAY_S = 86400.0


def readings(
    fleet: Fleet[Any], *, start_ts: float, duration_s: float, interval_s: float = 60.0
) -> Iterator[Reading]:
    """All devices' readings in event-time order, one report per device per `interval_s`.

    The first report is at `start_ts + interval_s` (a report covers the interval before
    it: `power_w` is that interval's mean, `door_open` whether the door opened in it);
    `seq` starts at 1 per device. At equal times, types come in `DeviceType` order and
    devices in fleet order. The same fleet and arguments give the same readings.

    >>> from device_sim.fleet import build_fridge_fleet
    >>> fleet = build_fridge_fleet(count=2, seed=7, start_ts=1_764_000_000)
    >>> for r in readings(fleet, start_ts=1_764_000_000, duration_s=120):
    ...     print(r.device_id, r.seq, r.ts)
    fridge-0001 1 1764000060.0
    fridge-0002 1 1764000060.0
    fridge-0001 2 1764000120.0
    fridge-0002 2 1764000120.0
    """
    stream = _measured(fleet, start_ts=start_ts, duration_s=duration_s, interval_s=interval_s)
    if fleet.outages:
        stream = delivered_readings(stream, fleet.outages)
    return stream


def deliveries(
    fleet: Fleet[Any],
    *,
    start_ts: float,
    duration_s: float,
    interval_s: float = 60.0,
    transport: TransportConfig | None = None,
    events: bool = True,
    status: bool = True,
    error_rates: ErrorRates | None = None,
) -> Iterator[Delivery]:
    """Everything the fleet's devices send, in order of arrival at the broker (`at`).

    With no outages, no transport faults, `events` and `status` off, the messages are
    exactly `readings()`, each delivered at its own `ts`.
    """
    end_ts = start_ts + duration_s
    controllers = None
    if events:
        controllers = _controllers(fleet, start_ts=start_ts, end_ts=end_ts, rates=error_rates)
    changes: list[Delivery] = []
    if status:
        changes = status_changes(
            (d.device_id for d in fleet.devices), fleet.outages, start_ts=start_ts
        )
        changes = [c for c in changes if c.at < end_ts]
    uplink = Uplink(
        sensor_faults=fleet.sensor_faults,
        outages=fleet.outages,
        controllers=controllers,
        status=changes,
        transport=transport or TransportConfig(),
    )
    return uplink.run(
        _ticks_of(fleet, start_ts=start_ts, duration_s=duration_s, interval_s=interval_s)
    )


def measured(
    fleet: Fleet[Any], *, start_ts: float, duration_s: float, interval_s: float = 60.0
) -> Iterator[Reading]:
    """Every reading the devices make, failing sensors included, outages ignored."""
    return _measured(fleet, start_ts=start_ts, duration_s=duration_s, interval_s=interval_s)


def appliance_events(
    fleet: Fleet[Any],
    *,
    start_ts: float,
    end_ts: float,
    interval_s: float = 60.0,
    rates: ErrorRates | None = None,
) -> list[Delivery]:
    """The error codes the fleet's appliances raise in `[start_ts, end_ts)`, in time order.

    Their controllers watch the physics, so this steps the fleet's banks (as `readings`).
    """
    controllers = _controllers(fleet, start_ts=start_ts, end_ts=end_ts, rates=rates)
    ticks = _ticks_of(fleet, start_ts=start_ts, duration_s=end_ts - start_ts, interval_s=interval_s)
    out: list[Delivery] = []
    for ts, _, _, ids, metrics in ticks:
        out.extend(controllers.due(ts))
        names = tuple(metrics)
        for device_id, row in zip(ids, zip(*metrics.values(), strict=True), strict=True):
            controllers.observe(device_id, ts, dict(zip(names, row, strict=True)))
    out.extend(controllers.due(float("inf")))
    return out


def _controllers(
    fleet: Fleet[Any], *, start_ts: float, end_ts: float, rates: ErrorRates | None
) -> ApplianceControllers:
    by_type = {t: kinds.kind(t) for t in {d.type for d in fleet.devices}}
    return ApplianceControllers(
        ((u, by_type[d.type]) for d, u in zip(fleet.devices, fleet.units, strict=True)),
        start_ts=start_ts,
        end_ts=end_ts,
        rates=rates,
    )


def messages(deliveries: Iterable[Delivery]) -> Iterator[Outgoing]:
    """The MQTT messages for `deliveries` (topic parts, payload bytes, retain flag)."""
    return map(encode, deliveries)


def _measured(
    fleet: Fleet[Any], *, start_ts: float, duration_s: float, interval_s: float
) -> Iterator[Reading]:
    stream = _physics(fleet, start_ts=start_ts, duration_s=duration_s, interval_s=interval_s)
    if fleet.sensor_faults:
        stream = apply_sensor_faults(stream, fleet.sensor_faults)
    return stream


def _physics(
    fleet: Fleet[Any], *, start_ts: float, duration_s: float, interval_s: float
) -> Iterator[Reading]:
    ticks = _ticks_of(fleet, start_ts=start_ts, duration_s=duration_s, interval_s=interval_s)
    for ts, _, seq, tick_ids, metrics in ticks:
        names = tuple(metrics)
        for device_id, row in zip(tick_ids, zip(*metrics.values(), strict=True), strict=True):
            yield Reading(device_id, ts, seq, dict(zip(names, row, strict=True)))


def _ticks_of(
    fleet: Fleet[Any], *, start_ts: float, duration_s: float, interval_s: float
) -> Iterator[Tick]:
    """Each type's bank, merged by event time (types in `DeviceType` order at equal times).

    Units reporting at their own interval (`fleet.report_intervals`) get a bank of their
    own per type and interval.
    """
    groups: dict[tuple[DeviceType, float], tuple[list[str], list[Any]]] = {}
    own = fleet.report_intervals
    for device, unit in zip(fleet.devices, fleet.units, strict=True):
        key = (device.type, float(own.get(device.device_id, interval_s)))
        ids, units = groups.setdefault(key, ([], []))
        ids.append(device.device_id)
        units.append(unit)
    streams = []
    keys = sorted(groups, key=lambda k: (list(DeviceType).index(k[0]), k[1]))
    for order, (device_type, every) in enumerate(keys):
        ids, units = groups[(device_type, every)]
        kind = kinds.kind(device_type)
        bank = kind.bank(units, start_ts=start_ts, interval_s=every)
        per_window = max(1, min(int(_DAY_S // every), WINDOW_UNIT_REPORTS // len(units)))
        stepping = _stepping(kind, units[0], start_ts, every)
        if stepping is _Stepping.WHOLE or per_window * every >= duration_s:
            streams.append(_ticks(bank, order, ids, duration_s=duration_s))
        else:
            streams.append(
                _windows(bank, stepping, order, ids, duration_s, every, per_window * every)
            )
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=lambda t: (t[0], t[1]))


def _ticks(bank: kinds.SimBank, order: int, ids: list[str], *, duration_s: float) -> Iterator[Tick]:
    for ts, metrics in bank.ticks(duration_s):
        yield ts, order, bank.seq, ids, metrics


class _Stepping(Enum):
    RESUMES = "resumes"  # a second ticks() call carries on where the first stopped
    RESTARTS = "restarts"  # ticks() starts from the bank's start_ts: move it along
    WHOLE = "whole"  # neither: step it in one call


_stepping_of: dict[tuple[object, float], _Stepping] = {}


def _stepping(kind: kinds.DeviceKind, unit: Any, start_ts: float, interval_s: float) -> _Stepping:
    """How the kind's bank behaves over successive `ticks()` calls, probed on one unit."""
    key = (kind.bank, interval_s)
    found = _stepping_of.get(key)
    if found is not None:
        return found
    found = _Stepping.WHOLE
    if kind.windowed:
        probe = kind.bank([unit], start_ts=start_ts, interval_s=interval_s)
        first = [ts for ts, _ in probe.ticks(interval_s)]
        second = [ts for ts, _ in probe.ticks(interval_s)]
        if len(first) == 1 and second == [first[0] + interval_s]:
            found = _Stepping.RESUMES
        elif second == first and hasattr(probe, "start_ts"):
            found = _Stepping.RESTARTS
    _stepping_of[key] = found
    return found


def _windows(
    bank: kinds.SimBank,
    stepping: _Stepping,
    order: int,
    ids: list[str],
    duration_s: float,
    interval_s: float,
    window_s: float,
) -> Iterator[Tick]:
    """The bank's reports, `window_s` of event time at a time.

    Stepping in windows gives the same reports as one long call (state lives in the
    bank; inputs are functions of event time and seeds) with memory bounded by the
    window. A bank that does not carry on exactly where it stopped is refused, loudly.
    """
    done = 0.0
    expected: float | None = None
    while done < duration_s - 1e-9:
        span = min(window_s, duration_s - done)
        for ts, metrics in bank.ticks(span):
            if expected is not None and abs(ts - expected) > 0.01:
                raise RuntimeError(
                    f"{type(bank).__name__} jumped to event time {ts} (expected {expected}) "
                    "when stepped a window at a time: set windowed=False for its kind in "
                    "device_sim/kinds.py"
                )
            expected = ts + interval_s
            yield ts, order, bank.seq, ids, metrics
        done += span
        if stepping is _Stepping.RESTARTS:
            bank.start_ts += span
