"""The engine on a small mixed fleet delivered as the broker would (error codes, wills,
backlogs, a lossy network): each fault raises exactly its own alarm, every alarm carries
a full diagnosis, and a hand-off mid-stream changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from detection.catalog import CATALOG
from detection.engine import DetectionEngine
from detection.evaluation import Episode, score
from device_sim import scenario
from device_sim.fleet import Fleet, build_fleet
from device_sim.fleet_definition import FleetDefinition, load_fleet_definition
from device_sim.messages import Delivery, DeviceStatus
from domain import Anomaly, DeviceType, FaultCode, Reading
from domain.wire import ApplianceEvent
from tests.detection.conftest import DAY, HOUR, START

DAYS = 2.0
PINNED = [
    ("fridge-0001", FaultCode.FRIDGE_COMPRESSOR_FAILURE, 6 * HOUR, None),
    ("fridge-0002", FaultCode.SENSOR_STUCK, 5 * HOUR, None),
    ("ac-0001", FaultCode.SENSOR_OUT_OF_RANGE, 7 * HOUR, None),
    ("washer-0001", FaultCode.DEVICE_OFFLINE, 10 * HOUR, 20 * HOUR),
    ("battery-0001", FaultCode.BATTERY_OVERHEAT, 6 * HOUR, None),
]


@dataclass
class Delivered:
    fleet: Fleet[object]
    types: dict[str, DeviceType]
    messages: list[Delivery]


def _definition() -> FleetDefinition:
    base = load_fleet_definition("default")
    data = base.model_dump(mode="python")
    data["devices"] = {
        DeviceType.FRIDGE: {"models": {"FR-300": 4, "FR-500": 3}},
        DeviceType.WASHER: {"models": {"WM-700": 2, "WM-900": 2}},
        DeviceType.AIR_CONDITIONER: {"models": {"AC-2500": 2, "AC-3500": 2}},
        DeviceType.BATTERY_PACK: {"models": {"RV-5200": 2, "EB-14000": 2}},
    }
    data["duration"] = DAYS * DAY
    data["batches"] = []
    data["faults"] = {
        "rates": {},
        "pinned": [
            {"device_id": d, "code": c, "onset_s": onset} | ({} if end is None else {"end_s": end})
            for d, c, onset, end in PINNED
        ],
    }
    return FleetDefinition.model_validate(data)


@pytest.fixture(scope="module")
def delivered() -> Delivered:
    definition = _definition()
    fleet = build_fleet(definition, 31, start_ts=START)
    messages = list(
        scenario.deliveries(
            fleet,
            start_ts=START,
            duration_s=DAYS * DAY,
            transport=definition.transport.config(31),
        )
    )
    return Delivered(fleet, {d.device_id: d.type for d in fleet.devices}, messages)


@pytest.fixture(scope="module")
def whole(delivered: Delivered) -> list[Anomaly]:
    engine = DetectionEngine()
    return [*_feed_part(engine, delivered, 0, len(delivered.messages)), *engine.advance()]


def test_each_fault_raises_exactly_its_own_alarm_and_nothing_else(
    delivered: Delivered, whole: list[Anomaly]
) -> None:
    truth = {(g.device_id, g.fault_code) for g in delivered.fleet.ground_truth}
    assert len(truth) == len(PINNED)
    assert {(a.device_id, a.fault_code) for a in whole} == truth
    report = score(
        [
            Episode(g.device_id, g.fault_code, g.onset_ts, g.end_ts)
            for g in delivered.fleet.ground_truth
        ],
        whole,
        device_days=len(delivered.types) * DAYS,
        end_ts=START + DAYS * DAY,
    )
    assert report.false_alarms == 0
    assert all(row.duplicates == 0 for row in report.codes.values())


def test_every_alarm_carries_a_full_diagnosis(whole: list[Anomaly]) -> None:
    assert whole
    for anomaly in whole:
        entry = CATALOG[anomaly.fault_code]
        assert anomaly.diagnosis == entry.as_dict()
        assert 0.0 < anomaly.confidence <= 1.0
        assert anomaly.onset_at <= anomaly.detected_at
        assert anomaly.summary
        for key in ("metric", "observed", "baseline", "delta"):
            assert key in anomaly.evidence, (anomaly.fault_code, key)
        json.dumps(anomaly.evidence)


@pytest.mark.parametrize("cut_share", [0.3, 0.55])
def test_a_hand_off_mid_stream_gives_identical_alarms(
    delivered: Delivered, whole: list[Anomaly], cut_share: float
) -> None:
    cut = int(len(delivered.messages) * cut_share) // 500 * 500
    first = DetectionEngine()
    got = list(_feed_part(first, delivered, 0, cut))
    saved = json.loads(json.dumps(first.state()))
    second = DetectionEngine.from_state(saved)
    got += list(_feed_part(second, delivered, cut, len(delivered.messages)))
    got += second.advance()
    assert got == whole


def _feed_part(
    engine: DetectionEngine, delivered: Delivered, start: int, stop: int
) -> Iterator[Anomaly]:
    types = delivered.types
    for count, (_, message) in enumerate(delivered.messages[start:stop], start=start + 1):
        if isinstance(message, Reading):
            yield from engine.process(types[message.device_id], message)
        elif isinstance(message, ApplianceEvent):
            yield from engine.process_event(types[message.device_id], message)
        elif isinstance(message, DeviceStatus):
            yield from engine.process_status(
                types[message.device_id], message.device_id, online=message.online
            )
        if count % 500 == 0:
            yield from engine.advance()
