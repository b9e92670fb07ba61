"""DEVICE_OFFLINE in event time and APPLIANCE_ERROR_CODE from the events topic."""

from __future__ import annotations

import json

from detection.engine import DetectionEngine
from detection.offline import FleetWatermark
from domain import Anomaly, AnomalySource, DeviceType, FaultCode, Reading, Severity, source_of
from domain.wire import ApplianceEvent
from tests.detection.conftest import HOUR, START

FRIDGE = DeviceType.FRIDGE
WASHER = DeviceType.WASHER


def _reading(device_id: str, ts: float, seq: int) -> Reading:
    # Cabinet and power move a little every minute, as in life.
    wobble = (seq % 5) * 0.1
    return Reading(
        device_id,
        ts,
        seq,
        {"cabinet_temp_c": 4.0 + wobble, "compressor_on": seq % 3 == 0, "power_w": 50.0 + wobble},
    )


def run_fleet(
    engine: DetectionEngine,
    minutes: range,
    *,
    devices: int = 5,
    silent: dict[str, range] | None = None,
    skew: dict[str, float] | None = None,
) -> list[Anomaly]:
    """A small fridge fleet reporting each minute; `silent` devices skip those minutes."""
    found: list[Anomaly] = []
    for minute in minutes:
        for n in range(devices):
            device_id = f"f-{n}"
            if silent and minute in silent.get(device_id, range(0)):
                continue
            ts = START + 60.0 * minute + (skew or {}).get(device_id, 0.0)
            found += engine.process(FRIDGE, _reading(device_id, ts, minute + 1))
        found += engine.advance()
    return found


def test_watermark_ignores_one_device_whose_clock_runs_a_day_ahead() -> None:
    engine = DetectionEngine()
    found = run_fleet(engine, range(180), skew={"f-4": 86400.0})
    assert found == []  # nobody looks offline against the skewed clock
    assert engine.watermark == START + 179 * 60.0


def test_watermark_rank_grows_with_the_fleet() -> None:
    assert [FleetWatermark.rank(n) for n in (1, 2, 3, 50, 1000)] == [1, 1, 2, 2, 11]


def test_a_silent_device_goes_offline_and_clears_when_it_returns() -> None:
    engine = DetectionEngine()
    found = run_fleet(engine, range(6 * 60), silent={"f-1": range(60, 240)})
    assert [(a.device_id, a.fault_code) for a in found] == [("f-1", FaultCode.DEVICE_OFFLINE)]
    (alarm,) = found
    assert alarm.onset_at == START + 59 * 60.0  # its last reading
    assert 30 * 60.0 < alarm.detected_at - alarm.onset_at <= 36 * 60.0
    assert alarm.evidence["metric"] == "last_reading_ts"
    assert alarm.diagnosis["fault_code"] == "DEVICE_OFFLINE"
    device = engine._devices["f-1"]
    assert not device.offline_stream.is_open  # back since minute 240


def test_a_short_blip_is_not_offline() -> None:
    engine = DetectionEngine()
    assert run_fleet(engine, range(120), silent={"f-1": range(30, 50)}) == []


def test_a_last_will_makes_the_verdict_sooner() -> None:
    engine = DetectionEngine()
    found = run_fleet(engine, range(60))
    engine.process_status(FRIDGE, "f-2", online=False)
    found += run_fleet(engine, range(60, 120), silent={"f-2": range(60, 120)})
    (alarm,) = found
    assert alarm.evidence["last_will"] is True
    assert alarm.detected_at - alarm.onset_at <= 16 * 60.0


def test_a_day_offline_escalates_once() -> None:
    engine = DetectionEngine()
    found = run_fleet(engine, range(27 * 60), devices=3, silent={"f-1": range(60, 27 * 60)})
    assert [a.severity for a in found] == [Severity.LOW, Severity.MEDIUM]
    assert found[1].evidence["alarm"]["update"] == "escalated"


def test_an_error_code_that_proves_a_fault_joins_that_faults_stream() -> None:
    engine = DetectionEngine()
    run_fleet(engine, range(30), devices=2)
    event = ApplianceEvent("f-0", START + 30 * 60.0, "E21", "compressor does not start")
    (alarm,) = engine.process_event(FRIDGE, event)
    assert alarm.fault_code is FaultCode.FRIDGE_COMPRESSOR_FAILURE
    assert alarm.severity is Severity.CRITICAL
    assert alarm.evidence["code"] == "E21"
    assert source_of(alarm) is AnomalySource.ERROR_CODE
    assert alarm.diagnosis["fault_code"] == "FRIDGE_COMPRESSOR_FAILURE"
    # Repeats of the code are the same episode.
    again = ApplianceEvent("f-0", START + 6 * HOUR, "E21", "compressor does not start")
    assert engine.process_event(FRIDGE, again) == []


def test_unknown_codes_raise_the_generic_alarm_and_informational_ones_nothing() -> None:
    engine = DetectionEngine()
    (alarm,) = engine.process_event(WASHER, ApplianceEvent("w-1", START, "E-99", "?"))
    assert alarm.fault_code is FaultCode.APPLIANCE_ERROR_CODE
    assert alarm.evidence["known_code"] is False
    assert engine.process_event(FRIDGE, ApplianceEvent("f-1", START, "DO", "door open")) == []


def test_an_error_code_alarm_expires_a_day_after_the_code_stops() -> None:
    engine = DetectionEngine()
    engine.process_event(WASHER, ApplianceEvent("w-1", START, "E-99", ""))
    stream = engine._devices["w-1"].streams[FaultCode.APPLIANCE_ERROR_CODE]
    engine.advance(START + 12 * HOUR)
    assert stream.is_open
    engine.advance(START + 26 * HOUR)
    assert not stream.is_open
    (later,) = engine.process_event(WASHER, ApplianceEvent("w-1", START + 50 * HOUR, "E-99", ""))
    assert later.detected_at == START + 50 * HOUR


def test_offline_state_survives_a_hand_off() -> None:
    minutes = range(5 * 60)
    silent = {"f-3": range(100, 5 * 60)}
    whole = run_fleet(DetectionEngine(), minutes, silent=silent)
    first = DetectionEngine()
    got = run_fleet(first, range(120), silent=silent)
    engine = DetectionEngine.from_state(json.loads(json.dumps(first.state())))
    got += run_fleet(engine, range(120, 5 * 60), silent=silent)
    assert got == whole and len(got) == 1
