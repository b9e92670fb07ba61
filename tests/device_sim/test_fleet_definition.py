"""Fleet YAML: the packaged fleets load, mistakes are refused with the field and the reason,
and a definition builds the same multi-type fleet every time for a seed."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from device_sim.fleet import build_fleet
from device_sim.fleet_definition import (
    FleetDefinitionError,
    load_fleet_definition,
    parse_fleet_definition,
)
from device_sim.scenario import readings
from domain import DeviceType, FaultCode
from tests.device_sim.small_fleets import START, definition, mixed


@pytest.mark.parametrize("name", ["default", "demo", "bench-10k"])
def test_packaged_fleets_load(name: str) -> None:
    fleet_def = load_fleet_definition(name)
    assert fleet_def.name == name
    assert set(fleet_def.devices) == set(DeviceType)
    assert fleet_def.device_count >= 10


def test_bench_fleet_has_ten_thousand_devices() -> None:
    assert load_fleet_definition("bench-10k").device_count == 10_000


def test_same_seed_same_fleet_and_same_readings_for_every_type() -> None:
    fleet_def = definition(faults={"rates": {"SENSOR_STUCK": 0.2, "DEVICE_OFFLINE": 0.2}})
    a, b = build_fleet(fleet_def), build_fleet(fleet_def)
    assert a.devices == b.devices and a.units == b.units
    assert a.ground_truth == b.ground_truth and a.customers == b.customers
    assert a.sensor_faults == b.sensor_faults and a.outages == b.outages
    first = list(readings(a, start_ts=START, duration_s=2 * 3600))
    assert first == list(readings(b, start_ts=START, duration_s=2 * 3600))
    assert {r.device_id.split("-")[0] for r in first} == {"fridge", "washer", "ac", "battery"}
    other = build_fleet(fleet_def, seed=6)
    assert other.devices != a.devices


def test_counts_per_type_and_model_and_ids_per_type() -> None:
    fleet = build_fleet(definition())
    models = Counter((d.type.value, d.model) for d in fleet.devices)
    assert models == {
        ("fridge", "FR-300"): 3,
        ("fridge", "FR-500"): 2,
        ("washer", "WM-700"): 2,
        ("washer", "WM-900"): 1,
        ("air_conditioner", "AC-2500"): 2,
        ("air_conditioner", "AC-3500"): 1,
        ("battery_pack", "RV-5200"): 2,
        ("battery_pack", "EB-14000"): 1,
    }
    ids = [d.device_id for d in fleet.devices]
    assert ids[:5] == [f"fridge-000{i}" for i in range(1, 6)]
    assert "ac-0001" in ids and "battery-0003" in ids and "washer-0003" in ids
    assert [u.device_id for u in fleet.units] == ids


def test_households_own_different_types_and_share_an_address_tier_and_language() -> None:
    fleet = build_fleet(
        definition(
            devices={
                "fridge": {"models": {"FR-300": 40}},
                "washer": {"models": {"WM-700": 30}},
                "air_conditioner": {"models": {"AC-2500": 30}},
            },
            customers={"devices_per_household": {3: 1.0}, "languages": {"zh-CN": 1, "en": 1}},
        )
    )
    by_id = {d.device_id: d for d in fleet.devices}
    assert sorted(d for c in fleet.customers for d in c.device_ids) == sorted(by_id)
    assert max(len(c.device_ids) for c in fleet.customers) == 3
    for customer in fleet.customers:
        owned = [by_id[d] for d in customer.device_ids]
        assert len({d.type for d in owned}) == len(owned), "two devices of one type"
        assert {d.customer_id for d in owned} == {customer.customer_id}
        assert {d.location for d in owned} == {customer.location}
        assert {d.customer_tier for d in owned} == {customer.tier}
    assert {c.language for c in fleet.customers} == {"zh-CN", "en"}
    assert {c.region for c in fleet.customers} == {"Shanghai", "Hangzhou"}


def test_homes_are_within_their_city_radius() -> None:
    fleet = build_fleet(definition())
    centres = {"Shanghai": (31.23, 121.47, 30.0), "Hangzhou": (30.27, 120.16, 20.0)}
    for customer in fleet.customers:
        lat, lon, radius = centres[customer.region]
        dy = (customer.location.lat - lat) * 111.32
        dx = (customer.location.lon - lon) * 111.32 * math.cos(math.radians(lat))
        assert math.hypot(dx, dy) <= radius + 0.01


def test_a_bad_production_batch_fails_more_often() -> None:
    fleet = build_fleet(
        definition(
            devices={"fridge": {"models": {"FR-300": 600}}},
            batches=[
                {
                    "id": "bad",
                    "type": "fridge",
                    "model": "FR-300",
                    "share": 0.5,
                    "fault_multiplier": 5,
                    "produced": "2023-07-15",
                }
            ],
            faults={"rates": {"FRIDGE_COMPRESSOR_FAILURE": 0.1}},
        )
    )
    faulty = {g.device_id for g in fleet.ground_truth}
    batch = Counter(d.production_batch == "bad" for d in fleet.devices)
    failed = Counter(d.production_batch == "bad" for d in fleet.devices if d.device_id in faulty)
    bad_rate, good_rate = failed[True] / batch[True], failed[False] / batch[False]
    assert 0.35 < bad_rate < 0.65 and 0.04 < good_rate < 0.17
    bad = [d for d in fleet.devices if d.production_batch == "bad"]
    assert all(d.install_date is not None and d.install_date.year >= 2023 for d in bad)


def test_fault_rates_give_labels_with_onsets_in_the_window() -> None:
    fleet_def = definition(
        devices={"fridge": {"models": {"FR-300": 200}}, "washer": {"models": {"WM-700": 200}}},
        faults={
            "rates": {
                "FRIDGE_TEMP_DRIFT": 0.1,
                "WASHER_DRAIN_BLOCKED": 0.1,
                "SENSOR_OUT_OF_RANGE": 0.05,
            },
            "onset_window": [0.1, 0.3],
        },
    )
    fleet = build_fleet(fleet_def)
    codes = Counter(g.fault_code for g in fleet.ground_truth)
    assert 8 <= codes[FaultCode.FRIDGE_TEMP_DRIFT] <= 35
    assert 8 <= codes[FaultCode.WASHER_DRAIN_BLOCKED] <= 35
    assert 6 <= codes[FaultCode.SENSOR_OUT_OF_RANGE] <= 35
    types = {d.device_id: d.type for d in fleet.devices}
    for truth in fleet.ground_truth:
        assert START + 0.1 * 86400 <= truth.onset_ts <= START + 0.3 * 86400
        if truth.fault_code is FaultCode.FRIDGE_TEMP_DRIFT:
            assert types[truth.device_id] is DeviceType.FRIDGE
            assert fleet.unit(truth.device_id).fault.code is FaultCode.FRIDGE_TEMP_DRIFT
    assert len({g.device_id for g in fleet.ground_truth}) == len(fleet.ground_truth)


def test_pinned_faults_land_on_the_named_device() -> None:
    fleet = build_fleet(
        definition(
            faults={
                "pinned": [
                    {
                        "device_id": "fridge-0001",
                        "code": "FRIDGE_COMPRESSOR_FAILURE",
                        "onset_s": 600,
                    },
                    {
                        "device_id": "ac-0002",
                        "code": "DEVICE_OFFLINE",
                        "onset_s": 3600,
                        "end_s": 7200,
                    },
                ]
            }
        )
    )
    truth = {g.device_id: g for g in fleet.ground_truth}
    assert truth["fridge-0001"].fault_code is FaultCode.FRIDGE_COMPRESSOR_FAILURE
    assert truth["fridge-0001"].onset_ts == START + 600
    assert (truth["ac-0002"].onset_ts, truth["ac-0002"].end_ts) == (START + 3600, START + 7200)


def _problems(**overrides: object) -> str:
    with pytest.raises(FleetDefinitionError) as caught:
        parse_fleet_definition(mixed(**overrides), source="fleet.yaml")
    return str(caught.value)


def test_validation_names_the_field_and_the_reason() -> None:
    assert "devices.toaster" in _problems(devices={"toaster": {"models": {"T-1": 1}}})
    msg = _problems(devices={"fridge": {"models": {"FR-999": 3}}})
    assert "devices.fridge.models: unknown model FR-999; known: FR-300, FR-500" in msg
    assert "duration" in _problems(duration="three days")
    msg = _problems(faults={"rates": {"FRIDGE_TEMP_DRIFT": 0.7, "SENSOR_STUCK": 0.5}})
    assert "fridge add up to 1.2" in msg
    assert "faults.rates.FRIDGE_TEMP_DRIFT" in _problems(faults={"rates": {"FRIDGE_TEMP_DRIFT": 2}})
    msg = _problems(
        devices={"fridge": {"models": {"FR-300": 2}}}, faults={"rates": {"BATTERY_WEAR": 0.1}}
    )
    assert "BATTERY_WEAR: a battery_pack fault, and the fleet has no battery_pack devices" in msg
    assert "appliance error codes come with the faults" in _problems(
        faults={"rates": {"APPLIANCE_ERROR_CODE": 0.1}}
    )
    assert "regions" in _problems(regions=[])
    msg = _problems(batches=[{"id": "b", "type": "washer", "model": "FR-300", "share": 0.5}])
    assert "batches[0] (b): no washer model 'FR-300'" in msg
    assert "colour: unknown field (a typo?)" in _problems(colour="blue")
    assert "regions.0.lat" in _problems(
        regions=[{"name": "x", "lat": 95, "lon": 0, "radius_km": 5}]
    )


def test_every_problem_is_reported_at_once() -> None:
    msg = _problems(colour="blue", interval_s=-1, devices={"fridge": {"models": {"FR-9": 1}}})
    assert msg.startswith("fleet.yaml: 3 problems")
    assert "colour" in msg and "interval_s" in msg and "FR-9" in msg


def test_unreadable_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(FleetDefinitionError, match="packaged fleets: bench-10k, default, demo"):
        load_fleet_definition(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(FleetDefinitionError, match="not valid YAML"):
        load_fleet_definition(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(FleetDefinitionError, match="expected a mapping"):
        load_fleet_definition(bad)


def test_a_fleet_without_a_start_needs_one_given() -> None:
    fleet_def = definition(start=None)
    with pytest.raises(ValueError, match="pass start_ts"):
        build_fleet(fleet_def)
    assert build_fleet(fleet_def, start_ts=START).start_ts == START
