"""A device-model catalog entry puts the maker's figures under a model's devices: its
sensor ranges, its reporting interval, its rated figures; everything else is learned."""

from __future__ import annotations

import dataclasses

import pytest

from detection.engine import DETECTOR_SETS, DetectionEngine
from detection.model_catalog import SpecError, check, ratings_for
from detection.profiles.health import HEALTH_PROFILES
from domain import DeviceType, FaultCode, Reading
from domain.device_models import RATINGS, DeviceModelSpec
from tests.detection.conftest import START

CELL = DeviceModelSpec(
    model="CELL-18650",
    type=DeviceType.BATTERY_PACK,
    reporting_interval_s=86400.0,
    ranges={"voltage_v": (2.5, 4.3)},
    ratings={"design_capacity_ah": 2.0},
)


def _cell(day: int, voltage: float) -> Reading:
    metrics = {
        "voltage_v": voltage,  # a cell at rest, read to 0.1 V
        "current_a": -2.0 + 0.1 * (day % 2),
        "temp_c": 24.0 + day % 4,
        "soc_pct": 50.0 + day % 5,
    }
    return Reading("cell-1", START + 86400.0 * day, day + 1, metrics)


def _run(engine: DetectionEngine, days: int) -> list[str]:
    found = []
    for day in range(days):
        found += [
            a.fault_code.value for a in engine.process(DeviceType.BATTERY_PACK, _cell(day, 3.3))
        ]
        found += [a.fault_code.value for a in engine.advance(START + 86400.0 * day)]
    return found


def test_a_sensor_railed_inside_the_types_range_is_caught_by_its_models_range() -> None:
    """A 48 V pack's voltage sensor stuck at 20 V: possible for some pack, not this one."""
    pack = DeviceModelSpec("PACK-48", DeviceType.BATTERY_PACK, ranges={"voltage_v": (36.0, 58.8)})

    def railed(engine: DetectionEngine) -> list[str]:
        engine.register("pack-1", DeviceType.BATTERY_PACK, model="PACK-48")
        found = []
        for minute in range(30):
            metrics = {"voltage_v": 20.0, "current_a": 1.0 + 0.1 * (minute % 3), "temp_c": 25.0}
            reading = Reading("pack-1", START + 60.0 * minute, minute + 1, metrics)
            found += [a.fault_code.value for a in engine.process(DeviceType.BATTERY_PACK, reading)]
        return found

    assert railed(DetectionEngine()) == []
    by_model = DetectionEngine()
    assert by_model.set_model_specs([pack]) == []
    assert railed(by_model) == [FaultCode.SENSOR_OUT_OF_RANGE.value]


def test_a_daily_reporter_is_judged_on_its_models_interval() -> None:
    engine = DetectionEngine()
    assert engine.set_model_specs([CELL]) == []
    engine.register("cell-1", DeviceType.BATTERY_PACK, model="CELL-18650")
    assert _run(engine, 10) == []


def test_an_entry_provisioned_later_rebuilds_that_models_devices_keeping_their_state() -> None:
    engine = DetectionEngine()
    engine.register("cell-1", DeviceType.BATTERY_PACK, model="CELL-18650")
    _run(engine, 2)
    assert engine.set_model_specs([CELL]) == []
    state = engine.state()["devices"]["cell-1"]
    assert state["group"] == "CELL-18650" and state["offline"]["last_ts"] == START + 86400.0


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (DeviceModelSpec("X", DeviceType.BATTERY_PACK, ratings={"cusum_limit": 1.0}), "no rating"),
        (DeviceModelSpec("X", DeviceType.FRIDGE, ranges={"voltage_v": (0, 1)}), "no metric"),
        (DeviceModelSpec("X", DeviceType.FRIDGE, ranges={"cabinet_temp_c": (5, 1)}), "is above"),
        (DeviceModelSpec("X", DeviceType.FRIDGE, reporting_interval_s=0.0), "positive"),
    ],
)
def test_an_entry_that_cannot_apply_says_why(spec: DeviceModelSpec, says: str) -> None:
    with pytest.raises(SpecError, match=says):
        check(spec, DETECTOR_SETS, HEALTH_PROFILES)
    assert says in DetectionEngine().set_model_specs([spec])[0]


def test_every_rating_the_domain_names_is_a_field_its_detectors_read() -> None:
    for device_type, names in RATINGS.items():
        fields = ratings_for(DETECTOR_SETS.get(device_type))
        assert sorted(fields) == sorted(names), device_type
        profile_fields = {
            f.name for f in dataclasses.fields(DETECTOR_SETS[device_type].profile_type)
        }
        assert set(fields.values()) <= profile_fields, device_type
