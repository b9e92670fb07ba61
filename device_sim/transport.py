"""The network between a device and the broker, each imperfection switchable on its own.

- dropped messages (lost before the broker had them);
- duplicates, as QoS 1 redelivers a message whose PUBACK was lost: the same payload
  (same `seq`) again, a retry interval later;
- out-of-order delivery: a message held back up to `reorder_max_delay_s`, overtaken by
  the device's later ones;
- clock skew: each device's clock off by a fixed amount, so its timestamps are too.

A message meets at most one of these (one draw decides), so each rate is exactly the
share of messages it affects; clock skew applies to all. Measurement noise and
quantisation are each device type's own (its simulator rounds and perturbs what it
reports). All off, `deliver()` passes its input through unchanged. Decisions are drawn
from a generator seeded by `seed`: the same input and configuration give the same output.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from device_sim.messages import Delivery, DeviceStatus
from domain import Reading
from domain.wire import ApplianceEvent


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """How imperfect the network is; the defaults are a perfect one."""

    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    duplicate_delay_s: tuple[float, float] = (5.0, 30.0)  # a QoS 1 retry interval
    reorder_rate: float = 0.0
    reorder_max_delay_s: float = 120.0
    clock_skew_sd_s: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("drop_rate", "duplicate_rate", "reorder_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if self.drop_rate + self.duplicate_rate + self.reorder_rate > 1.0:
            raise ValueError("drop_rate + duplicate_rate + reorder_rate must be <= 1")
        lo, hi = self.duplicate_delay_s
        if not 0.0 <= lo <= hi:
            raise ValueError(f"duplicate_delay_s must be (lo, hi) with 0 <= lo <= hi, got {lo, hi}")
        if self.reorder_max_delay_s < 0 or self.clock_skew_sd_s < 0:
            raise ValueError("reorder_max_delay_s and clock_skew_sd_s must be >= 0")

    @property
    def perfect(self) -> bool:
        return not (
            self.drop_rate or self.duplicate_rate or self.reorder_rate or self.clock_skew_sd_s
        )


def deliver(deliveries: Iterable[Delivery], config: TransportConfig) -> Iterator[Delivery]:
    """What the broker receives, in order of arrival (`at`), given `deliveries` in that order.

    Telemetry and appliance events go through the network's faults; status messages (the
    broker's own wills, retained `online`) arrive as sent.
    """
    if config.perfect:
        yield from deliveries
        return
    network = Network(config)
    for delivery in deliveries:
        yield from network.arrive(delivery)
    yield from network.release(float("inf"))


class Network:
    """The network's state between messages: its random draws, clocks, and what it holds back.

    `arrive()` takes one message and returns what reaches the broker by then; callers
    with a faster path of their own for plain readings use `release`, `skew` and `route`
    in the same order (`device_sim.uplink`).
    """

    def __init__(self, config: TransportConfig) -> None:
        self.config = config
        self.perfect = config.perfect
        self.rng = random.Random(config.seed)
        self.held: list[tuple[float, int, Delivery]] = []  # (arrival, tie-break, what)
        self.drop = config.drop_rate
        self.late_below = self.drop + config.reorder_rate
        self.faulty = self.late_below + config.duplicate_rate
        self._skews: dict[str, float] = {}
        self._order = 0

    def skew(self, device_id: str) -> float:
        found = self._skews.get(device_id)
        if found is None:
            found = self._skews[device_id] = clock_skew(device_id, self.config)
        return found

    def arrive(self, delivery: Delivery) -> list[Delivery]:
        """Everything held back that is due by `delivery.at`, then `delivery`'s own fate."""
        out = self.release(delivery.at)
        at, message = delivery
        if self.perfect or isinstance(message, DeviceStatus):
            out.append(delivery)
            return out
        if self.config.clock_skew_sd_s:
            delivery = Delivery(at, skewed(message, self.skew(message.device_id)))
        self.route(delivery, self.rng.random(), out)
        return out

    def release(self, at: float) -> list[Delivery]:
        """What was held back and arrives by `at`."""
        out = []
        held = self.held
        while held and held[0][0] <= at:
            out.append(heapq.heappop(held)[2])
        return out

    def route(self, delivery: Delivery, u: float, out: list[Delivery]) -> None:
        """One draw `u` decides: lost, held back, duplicated, or (mostly) delivered as sent."""
        if u >= self.faulty:
            out.append(delivery)
        elif u < self.drop:
            return
        elif u < self.late_below:
            self._hold(
                delivery.at + self.rng.uniform(0.0, self.config.reorder_max_delay_s), delivery
            )
        else:
            out.append(delivery)
            lo, hi = self.config.duplicate_delay_s
            self._hold(delivery.at + self.rng.uniform(lo, hi), delivery)

    def _hold(self, at: float, delivery: Delivery) -> None:
        heapq.heappush(self.held, (at, self._order, Delivery(at, delivery.message)))
        self._order += 1


def clock_skew(device_id: str, config: TransportConfig) -> float:
    """How far `device_id`'s clock is off (seconds, fixed for the run; 0 with skew off)."""
    if not config.clock_skew_sd_s:
        return 0.0
    return random.Random(f"{config.seed}/{device_id}").gauss(0.0, config.clock_skew_sd_s)


def skewed(message: Reading | ApplianceEvent, skew: float) -> Reading | ApplianceEvent:
    """`message` as a device whose clock is `skew` seconds off stamps it."""
    ts = round(message.ts + skew, 3)
    if isinstance(message, Reading):
        return Reading(message.device_id, ts, message.seq, message.metrics)
    return ApplianceEvent(message.device_id, ts, message.code, message.message)
