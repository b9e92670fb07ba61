"""Everything a fleet sends, from its banks' ticks to what the broker receives, in one pass.

It gives exactly what composing the stages one message at a time gives (sensor faults,
error events, outages, status, `transport.deliver`; `tests/device_sim` checks it), but a
healthy, online device's reading (nearly all of them) is built once, with its skewed
timestamp, and goes straight to the network's draw: at 10,000 devices the generator
stages and intermediate objects cost more than the physics.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from device_sim.appliance_errors import ApplianceControllers
from device_sim.connectivity import Link, OfflineSpell, links_for
from device_sim.messages import Delivery
from device_sim.sensor_faults import FaultySensor, SensorFault
from device_sim.transport import Network, TransportConfig
from domain import Reading

# (ts, bank order, seq, device ids, {metric: [value per unit]}), as scenario's banks yield.
Tick = tuple[float, int, int, Sequence[str], dict[str, list[Any]]]


class Uplink:
    """One run's state: failing sensors, connections, the network, what is still scheduled."""

    def __init__(
        self,
        *,
        sensor_faults: Iterable[SensorFault],
        outages: Iterable[OfflineSpell],
        controllers: ApplianceControllers | None,
        status: list[Delivery],
        transport: TransportConfig,
    ) -> None:
        by_device: dict[str, list[SensorFault]] = {}
        for fault in sensor_faults:
            by_device.setdefault(fault.device_id, []).append(fault)
        self.sensors = {d: FaultySensor(found) for d, found in by_device.items()}
        self.links: dict[str, Link] = links_for(outages)
        self.special = set(self.sensors) | set(self.links)
        self.controllers = controllers
        self.status = status
        self.network = Network(transport)
        self._status = 0

    def run(self, ticks: Iterable[Tick]) -> Iterator[Delivery]:
        network = self.network
        held = network.held
        perfect = network.perfect
        skewing = bool(network.config.clock_skew_sd_s)
        skew = network.skew
        skews: dict[str, float] = {}
        rng = network.rng
        faulty = network.faulty
        special = self.special
        observe = self.controllers.observe if self.controllers is not None else None
        for ts, _, seq, ids, metrics in ticks:
            yield from self._scheduled(ts)
            names = tuple(metrics)
            for device_id, row in zip(ids, zip(*metrics.values(), strict=True), strict=True):
                values = dict(zip(names, row, strict=True))
                if observe is not None:
                    observe(device_id, ts, values)  # the controller sees its own sensors' truth
                if device_id in special:
                    yield from self._special(Reading(device_id, ts, seq, values))
                    continue
                if held and held[0][0] <= ts:
                    yield from network.release(ts)
                if perfect:
                    yield Delivery(ts, Reading(device_id, ts, seq, values))
                    continue
                if skewing:
                    offset = skews.get(device_id)
                    if offset is None:
                        offset = skews[device_id] = skew(device_id)
                    stamp = round(ts + offset, 3)
                else:
                    stamp = ts
                delivery = Delivery(ts, Reading(device_id, stamp, seq, values))
                u = rng.random()
                if u >= faulty:
                    yield delivery
                else:
                    out: list[Delivery] = []
                    network.route(delivery, u, out)
                    yield from out
        yield from self._scheduled(float("inf"))
        yield from network.release(float("inf"))

    def _scheduled(self, before: float) -> Iterator[Delivery]:
        """Error codes raised before `before` (readings first at equal times), status up to it."""
        if self.controllers is not None:
            for event in self.controllers.due(before):
                yield from self._status_until(event.at)
                yield from self._through_link(event)
        yield from self._status_until(before)

    def _status_until(self, at: float) -> Iterator[Delivery]:
        status = self.status
        while self._status < len(status) and status[self._status].at <= at:
            yield from self.network.arrive(status[self._status])
            self._status += 1

    def _special(self, reading: Reading) -> Iterator[Delivery]:
        sensor = self.sensors.get(reading.device_id)
        if sensor is not None:
            reading = sensor.apply(reading)
        yield from self._through_link(Delivery(reading.ts, reading))

    def _through_link(self, delivery: Delivery) -> Iterator[Delivery]:
        """`connectivity.apply_outages` for one message, then the network."""
        message = delivery.message
        link = self.links.get(message.device_id)
        if link is not None:
            ts = message.ts
            spell = link.spell_at(ts)
            if spell is not None:
                if spell.kept(ts):
                    link.buffer.append(delivery)
                return
            if link.buffer:
                for held in link.buffer:
                    yield from self.network.arrive(Delivery(delivery.at, held.message))
                link.buffer = []
        yield from self.network.arrive(delivery)
