"""Failing sensors and outages, on any device type: their signature shows after the onset
and not before, and the labels say when each began and ended."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from pathlib import Path

import pytest

from device_sim import kinds
from device_sim.appliance_errors import ErrorRates
from device_sim.connectivity import WILL_DELAY_S, OfflineSpell, apply_outages, status_changes
from device_sim.faults import read_ground_truth, write_ground_truth
from device_sim.fleet import build_fleet
from device_sim.messages import Delivery, DeviceStatus
from device_sim.scenario import deliveries, readings
from device_sim.sensor_faults import (
    SensorFailure,
    SensorFault,
    apply_sensor_faults,
    sample_sensor_fault,
)
from domain import DeviceType, FaultCode, Reading
from domain.wire import ApplianceEvent
from tests.device_sim.small_fleets import HOUR, START, definition

PERFECT = ErrorRates(missed=0.0, false_per_device_day=0.0)  # controllers that never err

ONSET = START + 6 * HOUR


def _stream(device_type: str, model: str, hours: float = 12) -> list[Reading]:
    unit = kinds.kind(device_type).sample(f"{device_type}-x", 3, model=model, fault=None)
    return list(unit.readings(start_ts=START, duration_s=hours * HOUR))


@pytest.mark.parametrize(
    ("device_type", "model", "metric"),
    [
        ("fridge", "FR-300", "cabinet_temp_c"),
        ("washer", "WM-700", "water_level_l"),
        ("air_conditioner", "AC-2500", "supply_temp_c"),
        ("battery_pack", "RV-5200", "temp_c"),
    ],
)
def test_a_stuck_sensor_repeats_its_last_good_value_from_the_onset(
    device_type: str, model: str, metric: str
) -> None:
    clean = _stream(device_type, model)
    fault = SensorFault(clean[0].device_id, SensorFailure.STUCK, metric, ONSET)
    faulty = list(apply_sensor_faults(clean, [fault]))
    before = [r for r in faulty if r.ts < ONSET]
    after = [r for r in faulty if r.ts >= ONSET]
    assert before == [r for r in clean if r.ts < ONSET]
    frozen = before[-1].metrics[metric]
    assert {r.metrics[metric] for r in after} == {frozen}
    assert len({r.metrics[metric] for r in clean if r.ts >= ONSET}) > 1 or device_type == "washer"
    # Only the one metric is wrong; the appliance itself carries on.
    for good, bad in zip(clean, faulty, strict=True):
        assert {k: v for k, v in good.metrics.items() if k != metric} == {
            k: v for k, v in bad.metrics.items() if k != metric
        }


def test_an_out_of_range_sensor_reads_impossible_values_only_after_the_onset() -> None:
    clean = _stream("fridge", "FR-500")
    fault = SensorFault(
        clean[0].device_id, SensorFailure.OUT_OF_RANGE, "freezer_temp_c", ONSET, value=125.0
    )
    faulty = list(apply_sensor_faults(clean, [fault]))
    assert all(-40 < r.metrics["freezer_temp_c"] < 0 for r in faulty if r.ts < ONSET)
    assert all(r.metrics["freezer_temp_c"] == 125.0 for r in faulty if r.ts >= ONSET)


def test_an_intermittent_broken_sensor_fails_now_and_then_and_the_fault_can_end() -> None:
    clean = _stream("battery_pack", "EB-14000")
    end = ONSET + 3 * HOUR
    fault = SensorFault(
        clean[0].device_id, SensorFailure.OUT_OF_RANGE, "temp_c", ONSET, end, value=-40.0, share=0.3
    )
    faulty = list(apply_sensor_faults(clean, [fault]))
    broken = [r.ts for r in faulty if r.metrics["temp_c"] == -40.0]
    assert broken and all(ONSET <= ts < end for ts in broken)
    assert 0.15 < len(broken) / 180 < 0.45
    assert fault.ground_truth().end_ts == end


def test_a_noisy_sensor_scatters_around_the_truth_after_the_onset() -> None:
    clean = _stream("air_conditioner", "AC-3500")
    fault = SensorFault(
        clean[0].device_id, SensorFailure.NOISY, "return_temp_c", ONSET, noise_sd=1.5
    )
    faulty = list(apply_sensor_faults(clean, [fault]))
    errors = [
        b.metrics["return_temp_c"] - a.metrics["return_temp_c"]
        for a, b in zip(clean, faulty, strict=True)
    ]
    before = [e for (e, r) in zip(errors, clean, strict=True) if r.ts < ONSET]
    after = [e for (e, r) in zip(errors, clean, strict=True) if r.ts >= ONSET]
    assert set(before) == {0.0}
    spread = (sum(e * e for e in after) / len(after)) ** 0.5
    assert 1.0 < spread < 2.0
    assert fault.fault_code is FaultCode.UNCLASSIFIED_ANOMALY


@pytest.mark.parametrize("device_type", list(DeviceType))
def test_every_type_lists_sensors_whose_broken_values_are_impossible(
    device_type: DeviceType,
) -> None:
    kind = kinds.kind(device_type)
    assert kind.sensors
    metrics = set(next(iter(_stream(device_type.value, kind.models[0], hours=0.1))).metrics)
    for sensor in kind.sensors:
        assert sensor.metric in metrics
    fault = sample_sensor_fault(
        "x", SensorFailure.OUT_OF_RANGE, kind.sensors, random.Random(1), onset_ts=0
    )
    assert fault.value in {v for s in kind.sensors for v in s.broken}


def _offline_run(backlog_s: float) -> tuple[list[Delivery], OfflineSpell]:
    clean = _stream("washer", "WM-900")
    spell = OfflineSpell(clean[0].device_id, ONSET, ONSET + 3 * HOUR, backlog_s)
    return list(apply_outages((Delivery(r.ts, r) for r in clean), [spell])), spell


def test_an_offline_device_sends_nothing_and_loses_what_it_could_not_keep() -> None:
    delivered, spell = _offline_run(backlog_s=0.0)
    sent = [d.message.ts for d in delivered]
    assert not [ts for ts in sent if spell.start_ts <= ts < spell.end_ts]
    assert len(sent) == 12 * 60 - 3 * 60
    assert all(d.at == d.message.ts for d in delivered)


def test_a_device_back_online_uploads_its_backlog_with_the_old_timestamps() -> None:
    delivered, spell = _offline_run(backlog_s=HOUR)
    late = [d for d in delivered if d.at != d.message.ts]
    assert len(late) == 60
    assert all(spell.end_ts - HOUR <= d.message.ts < spell.end_ts for d in late)
    assert {d.at for d in late} == {spell.end_ts}, "uploaded on reconnect"
    arrivals = [d.at for d in delivered]
    assert arrivals == sorted(arrivals)
    assert [d.message.seq for d in late] == sorted(d.message.seq for d in late)


def test_status_is_online_then_the_will_then_online_again() -> None:
    spell = OfflineSpell("ac-0001", ONSET, ONSET + HOUR)
    changes = status_changes(["ac-0001", "ac-0002"], [spell], start_ts=START)
    assert [(d.at, d.message) for d in changes] == [
        (START, DeviceStatus("ac-0001", START, True)),
        (START, DeviceStatus("ac-0002", START, True)),
        (ONSET + WILL_DELAY_S, DeviceStatus("ac-0001", ONSET + WILL_DELAY_S, False)),
        (ONSET + HOUR, DeviceStatus("ac-0001", ONSET + HOUR, True)),
    ]


def test_a_fleet_with_generic_faults_shows_them_in_its_stream_and_labels(tmp_path: Path) -> None:
    fleet_def = definition(
        faults={
            "pinned": [
                {"device_id": "fridge-0002", "code": "SENSOR_OUT_OF_RANGE", "onset_s": 6 * HOUR},
                {"device_id": "battery-0001", "code": "SENSOR_STUCK", "onset_s": 6 * HOUR},
                {
                    "device_id": "washer-0002",
                    "code": "DEVICE_OFFLINE",
                    "onset_s": 4 * HOUR,
                    "end_s": 8 * HOUR,
                },
            ],
        }
    )
    fleet = build_fleet(fleet_def)
    sensors = {f.device_id: f for f in fleet.sensor_faults}
    measured: dict[str, list[Reading]] = defaultdict(list)
    for r in readings(fleet, start_ts=START, duration_s=12 * HOUR):
        measured[r.device_id].append(r)
    broken = sensors["fridge-0002"]
    assert [r.metrics[broken.metric] == broken.value for r in measured["fridge-0002"]] == [
        r.ts >= ONSET for r in measured["fridge-0002"]
    ]
    stuck = sensors["battery-0001"]
    assert len({r.metrics[stuck.metric] for r in measured["battery-0001"] if r.ts >= ONSET}) == 1
    assert not [r for r in measured["washer-0002"] if START + 4 * HOUR <= r.ts < START + 8 * HOUR]
    arrived = [
        d
        for d in deliveries(fleet, start_ts=START, duration_s=12 * HOUR)
        if d.message.device_id == "washer-0002" and isinstance(d.message, DeviceStatus)
    ]
    assert [m.message.online for m in arrived] == [True, False, True]

    path = tmp_path / "truth.jsonl"
    write_ground_truth(path, fleet.ground_truth)
    labels = {(g.device_id, g.fault_code, g.onset_ts, g.end_ts) for g in read_ground_truth(path)}
    assert labels == {
        ("fridge-0002", FaultCode.SENSOR_OUT_OF_RANGE, ONSET, None),
        ("battery-0001", FaultCode.SENSOR_STUCK, ONSET, None),
        ("washer-0002", FaultCode.DEVICE_OFFLINE, START + 4 * HOUR, START + 8 * HOUR),
    }


def test_an_appliance_raises_its_error_code_when_its_own_check_trips_not_at_a_fixed_delay() -> None:
    fleet = build_fleet(
        definition(
            faults={
                "pinned": [
                    {
                        "device_id": "fridge-0001",
                        "code": "FRIDGE_COMPRESSOR_FAILURE",
                        "onset_s": HOUR,
                    },
                ]
            }
        )
    )
    sent = list(
        deliveries(fleet, start_ts=START, duration_s=18 * HOUR, status=False, error_rates=PERFECT)
    )
    events = [d.message for d in sent if isinstance(d.message, ApplianceEvent)]
    error = kinds.kind("fridge").errors[FaultCode.FRIDGE_COMPRESSOR_FAILURE]
    assert len(events) >= 2
    assert {(e.device_id, e.code) for e in events} == {("fridge-0001", "E21")}
    # The cabinet had to warm past the controller's line first, then stay there for the
    # hold time with the compressor off: the code follows the physics.
    own = [d.message for d in sent if isinstance(d.message, Reading)]
    own = [r for r in own if r.device_id == "fridge-0001"]
    tripped = [r.ts for r in own if error.trips(r.metrics)]
    assert tripped and tripped[0] > START + HOUR + 600, "a stopped compressor takes a while"
    assert events[0].ts >= tripped[0] + error.hold_s
    held = [r for r in own if events[0].ts - error.hold_s <= r.ts <= events[0].ts]
    assert held and all(error.trips(r.metrics) for r in held), "tripped for the whole hold"
    gaps = {b.ts - a.ts for a, b in itertools.pairwise(events)}
    assert gaps == {error.repeat_s}, "raised again while the cabinet stays warm"


def test_a_healthy_appliance_raises_no_code_from_its_checks() -> None:
    fleet = build_fleet(definition(faults={"rates": {}}))
    sent = deliveries(
        fleet, start_ts=START, duration_s=24 * HOUR, status=False, error_rates=PERFECT
    )
    assert not [d for d in sent if isinstance(d.message, ApplianceEvent)]


def test_a_noisy_vibration_sensor_never_reports_a_negative_rms() -> None:
    clean = _stream("washer", "WM-700", hours=24)
    sensor = next(s for s in kinds.SENSORS[DeviceType.WASHER] if s.metric == "vibration_g")
    fault = sample_sensor_fault(
        clean[0].device_id, SensorFailure.NOISY, (sensor,), random.Random(4), onset_ts=ONSET
    )
    faulty = [r.metrics["vibration_g"] for r in apply_sensor_faults(clean, [fault])]
    assert fault.floor == 0.0 and min(faulty) == 0.0, "idle drum: the noise is clipped at 0"
    assert sum(v > 0.2 for v in faulty) > 50, "and still scatters above it"
