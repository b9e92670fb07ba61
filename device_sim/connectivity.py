"""Devices dropping off the network (`DEVICE_OFFLINE`) and coming back.

While offline a device sends nothing. It keeps measuring, and keeps the last
`backlog_s` seconds of what it measured in its buffer (0: none): on reconnect it uploads
that backlog, with the old timestamps, before carrying on live. The broker publishes the
device's last will (`offline`, retained) once its keep-alive runs out, and the device
publishes `online` when it is back.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from device_sim.faults import GroundTruth
from device_sim.messages import Delivery, DeviceStatus
from domain import FaultCode, Reading

KEEPALIVE_S = 60.0
WILL_DELAY_S = 1.5 * KEEPALIVE_S  # how long the broker waits on a silent client


@dataclass(frozen=True, slots=True)
class OfflineSpell:
    """One device off the network from `start_ts` to `end_ts` (event time)."""

    device_id: str
    start_ts: float
    end_ts: float
    backlog_s: float = 0.0

    def __post_init__(self) -> None:
        if self.end_ts <= self.start_ts:
            raise ValueError(f"offline spell ends ({self.end_ts}) before it starts")
        if self.backlog_s < 0:
            raise ValueError(f"backlog_s must be >= 0, got {self.backlog_s}")

    def covers(self, ts: float) -> bool:
        return self.start_ts <= ts < self.end_ts

    def kept(self, ts: float) -> bool:
        """Whether a message stamped `ts` inside the spell is still buffered at reconnect."""
        return ts >= self.end_ts - self.backlog_s

    def ground_truth(self) -> GroundTruth:
        return GroundTruth(self.device_id, FaultCode.DEVICE_OFFLINE, self.start_ts, self.end_ts)


def sample_spells(
    device_id: str,
    rng: random.Random,
    *,
    start_ts: float,
    end_ts: float,
    spells: tuple[int, int] = (1, 3),
    hours: tuple[float, float] = (2.0, 12.0),
    backlog_share: float = 0.5,
    backlog_hours: tuple[float, float] = (1.0, 24.0),
) -> list[OfflineSpell]:
    """Between `spells` outages of `hours` each, not overlapping, inside [start, end).

    With probability `backlog_share` a device keeps a buffer of `backlog_hours`; the
    others lose what they measured while offline.
    """
    count = rng.randint(*spells)
    keeps = rng.random() < backlog_share
    backlog = rng.uniform(*backlog_hours) * 3600.0 if keeps else 0.0
    out: list[OfflineSpell] = []
    for _ in range(count * 4):  # a few tries for spells that do not overlap
        if len(out) == count:
            break
        length = rng.uniform(*hours) * 3600.0
        if end_ts - start_ts <= length:
            break
        begin = rng.uniform(start_ts, end_ts - length)
        spell = OfflineSpell(device_id, round(begin, 3), round(begin + length, 3), backlog)
        if all(spell.end_ts < o.start_ts or spell.start_ts > o.end_ts for o in out):
            out.append(spell)
    return sorted(out, key=lambda s: s.start_ts)


class Link:
    """One device's connection: its outages, and what it buffered during the current one."""

    def __init__(self, spells: list[OfflineSpell]) -> None:
        self.spells = sorted(spells, key=lambda s: s.start_ts)
        self.index = 0
        self.buffer: list[Delivery] = []

    def spell_at(self, ts: float) -> OfflineSpell | None:
        while self.index < len(self.spells) and ts >= self.spells[self.index].end_ts:
            self.index += 1
        if self.index < len(self.spells) and self.spells[self.index].covers(ts):
            return self.spells[self.index]
        return None


def apply_outages(
    deliveries: Iterable[Delivery], spells: Iterable[OfflineSpell]
) -> Iterator[Delivery]:
    """What gets through: nothing from an offline device, then its backlog on reconnect.

    `deliveries` (readings and appliance events, in order of `at`) come out in order of
    `at`; a backlog goes out, oldest first, just before the device's first message after
    the spell. Status messages pass through: the will and `online` are `status_changes`.
    """
    by_device = links_for(spells)
    for delivery in deliveries:
        message = delivery.message
        link = by_device.get(message.device_id)
        if link is None or isinstance(message, DeviceStatus):
            yield delivery
            continue
        spell = link.spell_at(message.ts)
        if spell is not None:
            if spell.kept(message.ts):
                link.buffer.append(delivery)
            continue
        if link.buffer:
            for held in link.buffer:
                yield Delivery(delivery.at, held.message)
            link.buffer = []
        yield delivery


def delivered_readings(
    readings: Iterable[Reading], spells: Iterable[OfflineSpell]
) -> Iterator[Reading]:
    """`readings` less those an outage lost for good, still in event-time order."""
    by_device = links_for(spells)
    for reading in readings:
        link = by_device.get(reading.device_id)
        if link is not None:
            spell = link.spell_at(reading.ts)
            if spell is not None and not spell.kept(reading.ts):
                continue
        yield reading


def status_changes(
    device_ids: Iterable[str], spells: Iterable[OfflineSpell], *, start_ts: float
) -> list[Delivery]:
    """`online` for every device at `start_ts`; per spell the will, then `online` again."""
    out = [Delivery(start_ts, DeviceStatus(d, start_ts, True)) for d in device_ids]
    for spell in spells:
        will_at = spell.start_ts + WILL_DELAY_S
        if will_at < spell.end_ts:
            out.append(Delivery(will_at, DeviceStatus(spell.device_id, will_at, False)))
        out.append(Delivery(spell.end_ts, DeviceStatus(spell.device_id, spell.end_ts, True)))
    out.sort(key=lambda d: d.at)
    return out


def links_for(spells: Iterable[OfflineSpell]) -> dict[str, Link]:
    by_device: dict[str, list[OfflineSpell]] = {}
    for spell in spells:
        by_device.setdefault(spell.device_id, []).append(spell)
    return {device_id: Link(found) for device_id, found in by_device.items()}
