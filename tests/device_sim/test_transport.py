"""The network's imperfections, each switched on alone: off, the stream is untouched; on, it
leaves exactly its mark (duplicates keep their seq, lateness stays bounded, rates hold)."""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

import pytest

from device_sim.appliance_errors import ErrorRates
from device_sim.connectivity import apply_outages, status_changes
from device_sim.fleet import Fleet, build_fleet
from device_sim.messages import Delivery, DeviceStatus
from device_sim.scenario import appliance_events, deliveries, measured, readings
from device_sim.transport import TransportConfig, clock_skew, deliver
from domain import Reading
from tests.device_sim.small_fleets import HOUR, START, definition

DURATION = 6 * HOUR


def _keys(stream: list[Delivery]) -> list[tuple[str, int]]:
    return [(d.message.device_id, d.message.seq) for d in stream]  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def clean() -> list[Delivery]:
    fleet = build_fleet(definition())
    return [Delivery(r.ts, r) for r in readings(fleet, start_ts=START, duration_s=DURATION)]


def test_with_everything_off_the_stream_is_the_clean_stream() -> None:
    fleet = build_fleet(definition())
    clean = list(readings(fleet, start_ts=START, duration_s=DURATION))
    sent = deliveries(
        fleet,
        start_ts=START,
        duration_s=DURATION,
        transport=TransportConfig(seed=3),
        events=False,
        status=False,
    )
    assert [(d.at, d.message) for d in sent] == [(r.ts, r) for r in clean]
    assert len(clean) == 14 * 6 * 60


def test_duplicates_repeat_the_same_reading_a_retry_interval_later(clean: list[Delivery]) -> None:
    out = list(
        deliver(clean, TransportConfig(duplicate_rate=0.02, duplicate_delay_s=(5, 30), seed=1))
    )
    counts = Counter((d.message.device_id, d.message.seq) for d in out)
    dups = [key for key, n in counts.items() if n > 1]
    assert set(counts.values()) == {1, 2}
    assert 0.012 < len(dups) / len(clean) < 0.03
    first: dict[tuple[str, int], Delivery] = {}
    for d in out:
        key = (d.message.device_id, d.message.seq)
        if key in first:
            assert d.message == first[key].message, "a redelivery is the same payload"
            assert 5 <= d.at - first[key].at <= 30
        else:
            first[key] = d
    assert [d.message for d in first.values()] == [d.message for d in clean]


def test_out_of_order_delivery_is_bounded_by_the_maximum_delay(clean: list[Delivery]) -> None:
    out = list(deliver(clean, TransportConfig(reorder_rate=0.05, reorder_max_delay_s=150, seed=2)))
    assert sorted(out, key=lambda d: (d.message.device_id, d.message.seq)) != out
    assert sorted(_keys(out)) == sorted(_keys(clean))
    arrivals = [d.at for d in out]
    assert arrivals == sorted(arrivals)
    newest: dict[str, float] = {}
    overtaken = 0
    for d in out:
        r = d.message
        seen = newest.get(r.device_id, float("-inf"))
        if r.ts < seen:
            overtaken += 1
            assert seen - r.ts <= 150
        newest[r.device_id] = max(seen, r.ts)
    assert overtaken > 0.02 * len(clean)


def test_drops_lose_about_the_configured_share(clean: list[Delivery]) -> None:
    out = list(deliver(clean, TransportConfig(drop_rate=0.03, seed=4)))
    lost = 1 - len(out) / len(clean)
    assert 0.02 < lost < 0.04
    assert set(_keys(out)) <= set(_keys(clean))


def test_clock_skew_shifts_each_device_by_its_own_fixed_offset(clean: list[Delivery]) -> None:
    config = TransportConfig(clock_skew_sd_s=2.0, seed=5)
    out = list(deliver(clean, config))
    offsets: dict[str, set[float]] = defaultdict(set)
    for sent, got in zip(clean, out, strict=True):
        assert got.at == sent.at and got.message.seq == sent.message.seq
        offsets[got.message.device_id].add(round(got.message.ts - sent.message.ts, 2))
    assert all(len(found) == 1 for found in offsets.values())
    assert len({next(iter(found)) for found in offsets.values()}) > 10
    skew = clock_skew("fridge-0001", config)
    assert offsets["fridge-0001"] == {round(skew, 2)}


def _composed(
    fleet: Fleet[Any], config: TransportConfig, duration_s: float, rates: ErrorRates
) -> Iterator[Delivery]:
    """The reference: each stage on its own, one message at a time."""
    end = START + duration_s
    stream: Iterator[Delivery] = (
        Delivery(r.ts, r) for r in measured(fleet, start_ts=START, duration_s=duration_s)
    )
    at = attrgetter("at")
    events = appliance_events(fleet, start_ts=START, end_ts=end, rates=rates)
    stream = heapq.merge(stream, events, key=at)  # readings first at equal times
    stream = apply_outages(stream, fleet.outages)
    ids = [d.device_id for d in fleet.devices]
    status = [c for c in status_changes(ids, fleet.outages, start_ts=START) if c.at < end]
    stream = heapq.merge(status, stream, key=at)  # status first at equal times
    return deliver(stream, config)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_one_pass_fleet_stream_equals_the_stages_composed(seed: int) -> None:
    fleet = build_fleet(
        definition(
            seed=seed,
            duration="8h",
            faults={
                "rates": {"SENSOR_STUCK": 0.15, "SENSOR_OUT_OF_RANGE": 0.15, "DEVICE_OFFLINE": 0.3},
                "onset_window": [0.0, 0.2],
                "outages": {"hours": [0.5, 2], "backlog_share": 0.7, "backlog_hours": [0.2, 1]},
                "pinned": [
                    {"device_id": "fridge-0001", "code": "FRIDGE_COMPRESSOR_FAILURE", "onset_s": 0}
                ],
            },
        )
    )
    assert fleet.outages and fleet.sensor_faults
    config = TransportConfig(
        drop_rate=0.02, duplicate_rate=0.02, reorder_rate=0.02, clock_skew_sd_s=2.0, seed=seed
    )
    duration = 8 * HOUR
    # Controllers that never miss a code (and never raise a spurious one): every run
    # carries an appliance event whichever unit the seed leaves unchecked.
    rates = ErrorRates(missed=0.0, false_per_device_day=0.0)
    one_pass = list(
        deliveries(fleet, start_ts=START, duration_s=duration, transport=config, error_rates=rates)
    )
    assert one_pass == list(_composed(fleet, config, duration, rates))
    spurious = ErrorRates(missed=0.5, false_per_device_day=5.0)  # and with imperfect ones
    one_pass = list(
        deliveries(
            fleet, start_ts=START, duration_s=duration, transport=config, error_rates=spurious
        )
    )
    assert one_pass == list(_composed(fleet, config, duration, spurious))
    kinds_seen = {type(d.message).__name__ for d in one_pass}
    assert kinds_seen == {"Reading", "ApplianceEvent", "DeviceStatus"}
    assert any(d.at > d.message.ts + 600 for d in one_pass), "a backlog was uploaded late"


def test_status_messages_are_never_dropped_or_delayed() -> None:
    status = [Delivery(START + i, DeviceStatus(f"d-{i}", START + i, True)) for i in range(200)]
    assert list(deliver(status, TransportConfig(drop_rate=0.5, reorder_rate=0.5, seed=1))) == status


def test_same_seed_same_imperfections(clean: list[Delivery]) -> None:
    config = TransportConfig(
        drop_rate=0.01, duplicate_rate=0.01, reorder_rate=0.01, clock_skew_sd_s=1, seed=9
    )
    assert list(deliver(clean, config)) == list(deliver(clean, config))
    other = TransportConfig(
        drop_rate=0.01, duplicate_rate=0.01, reorder_rate=0.01, clock_skew_sd_s=1, seed=10
    )
    assert list(deliver(clean, config)) != list(deliver(clean, other))


def test_impossible_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="drop_rate"):
        TransportConfig(drop_rate=1.5)
    with pytest.raises(ValueError, match="<= 1"):
        TransportConfig(drop_rate=0.6, duplicate_rate=0.6)
    assert isinstance(TransportConfig().perfect, bool) and TransportConfig().perfect


def test_readings_are_unchanged_objects_when_nothing_applies(clean: list[Delivery]) -> None:
    out = list(deliver(clean, TransportConfig(drop_rate=0.0001, seed=1)))
    assert all(isinstance(d.message, Reading) for d in out)
