"""Fleets: deterministic by seed, faults where and when asked, labels that round-trip."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from device_sim.faults import (
    FaultSpec,
    FaultSpecError,
    GroundTruth,
    read_ground_truth,
    write_ground_truth,
)
from device_sim.fleet import CITY_CENTRE, build_fridge_fleet
from device_sim.fridge import FridgeUnit
from domain import DeviceType, FaultCode

START = 1_764_000_000.0
HOUR = 3600.0


def _km(lat: float, lon: float) -> float:
    dy = (lat - CITY_CENTRE.lat) * 111.32
    dx = (lon - CITY_CENTRE.lon) * 111.32 * math.cos(math.radians(CITY_CENTRE.lat))
    return math.hypot(dx, dy)


def test_fleet_devices_are_fridges_around_shanghai() -> None:
    fleet = build_fridge_fleet(count=30, seed=4, start_ts=START)
    ids = [d.device_id for d in fleet.devices]
    assert ids[0] == "fridge-0001" and ids[-1] == "fridge-0030"
    assert len(set(ids)) == 30
    assert {d.type for d in fleet.devices} == {DeviceType.FRIDGE}
    assert {d.model for d in fleet.devices} <= {"FR-300", "FR-500"}
    assert len({d.model for d in fleet.devices}) == 2
    assert all(_km(d.location.lat, d.location.lon) <= 30.0 for d in fleet.devices)
    assert all(
        d.customer_id.startswith("c-") and d.serial and d.install_date for d in fleet.devices
    )
    assert [u.device_id for u in fleet.units] == ids
    assert all(3.0 <= u.params.setpoint_c <= 5.0 for u in fleet.units)
    assert fleet.ground_truth == []


def test_same_seed_same_fleet_and_faults() -> None:
    faulty = {FaultCode.FRIDGE_COMPRESSOR_FAILURE: 2, FaultCode.FRIDGE_TEMP_DRIFT: 3}
    a = build_fridge_fleet(count=20, seed=9, start_ts=START, faulty=faulty)
    b = build_fridge_fleet(count=20, seed=9, start_ts=START, faulty=faulty)
    c = build_fridge_fleet(count=20, seed=10, start_ts=START, faulty=faulty)
    assert a.devices == b.devices and a.units == b.units and a.ground_truth == b.ground_truth
    assert a.ground_truth != c.ground_truth


def test_fault_onsets_fall_in_the_window_with_one_label_each() -> None:
    window = (6 * HOUR, 30 * HOUR)
    fleet = build_fridge_fleet(
        count=20,
        seed=3,
        start_ts=START,
        faulty={FaultCode.FRIDGE_COMPRESSOR_FAILURE: 3, FaultCode.FRIDGE_TEMP_DRIFT: 4},
        fault_window=window,
    )
    codes = [g.fault_code for g in fleet.ground_truth]
    assert codes.count(FaultCode.FRIDGE_COMPRESSOR_FAILURE) == 3
    assert codes.count(FaultCode.FRIDGE_TEMP_DRIFT) == 4
    for truth in fleet.ground_truth:
        unit = fleet.unit(truth.device_id)
        assert unit.fault is not None and unit.fault.code == truth.fault_code
        assert unit.fault.onset_ts == truth.onset_ts
        assert START + window[0] <= truth.onset_ts <= START + window[1]
        assert truth.end_ts is None
    healthy = [u for u in fleet.units if u.fault is None]
    assert len(healthy) == 13


def test_a_named_device_gets_the_fault_the_demo_asks_for() -> None:
    onset = START + 600
    fleet = build_fridge_fleet(
        count=5,
        seed=11,
        start_ts=START,
        faulty={FaultCode.FRIDGE_TEMP_DRIFT: 1},
        faults={"fridge-0001": FaultSpec(FaultCode.FRIDGE_COMPRESSOR_FAILURE, onset)},
    )
    assert fleet.unit("fridge-0001").fault == FaultSpec(FaultCode.FRIDGE_COMPRESSOR_FAILURE, onset)
    truth = {g.device_id: g for g in fleet.ground_truth}
    assert truth["fridge-0001"] == GroundTruth(
        "fridge-0001", FaultCode.FRIDGE_COMPRESSOR_FAILURE, onset
    )
    assert len(truth) == 2  # the random drift went to another unit


def test_warm_kitchens_can_be_pinned() -> None:
    fleet = build_fridge_fleet(count=10, seed=1, start_ts=START, warm_kitchens=4)
    assert sum(u.kitchen.base_c >= 27 for u in fleet.units) == 4


def test_impossible_requests_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="only 2 fridges free"):
        build_fridge_fleet(count=2, seed=1, start_ts=START, faulty={FaultCode.FRIDGE_TEMP_DRIFT: 3})
    with pytest.raises(ValueError, match="cannot inject"):
        build_fridge_fleet(count=2, seed=1, start_ts=START, faulty={FaultCode.WASHER_IMBALANCE: 1})
    with pytest.raises(ValueError, match="not in the fleet"):
        build_fridge_fleet(
            count=2,
            seed=1,
            start_ts=START,
            faults={"fridge-0009": FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, START)},
        )
    with pytest.raises(FaultSpecError, match="fridge simulator"):
        FridgeUnit.sample("fridge-0001", 1, fault=FaultSpec(FaultCode.BATTERY_WEAR, START))
    with pytest.raises(FaultSpecError):
        FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, START, severity=0.0)


def test_ground_truth_round_trips_through_jsonl(tmp_path: Path) -> None:
    fleet = build_fridge_fleet(
        count=10,
        seed=2,
        start_ts=START,
        faulty={FaultCode.FRIDGE_COMPRESSOR_FAILURE: 1, FaultCode.FRIDGE_TEMP_DRIFT: 2},
    )
    records = [*fleet.ground_truth, GroundTruth("fridge-x", FaultCode.FRIDGE_TEMP_DRIFT, 1.5, 2.5)]
    path = tmp_path / "truth.jsonl"
    assert write_ground_truth(path, records) == 4
    assert len(path.read_text().splitlines()) == 4
    assert read_ground_truth(path) == records


def test_reading_a_corrupt_label_file_says_where(tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    path.write_text('{"device_id": "fridge-0001", "fault_code": "NOPE", "onset_ts": 1}\n')
    with pytest.raises(ValueError, match=r"truth\.jsonl:1"):
        read_ground_truth(path)
