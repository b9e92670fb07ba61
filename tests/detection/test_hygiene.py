"""Alarm hygiene: persistence, hysteresis, cooldown, escalation and one stream per fault."""

from __future__ import annotations

import json

import pytest

from detection.hygiene import (
    DEFAULT_POLICIES,
    AlarmPolicy,
    AlarmStream,
    anomaly_from_dict,
    anomaly_to_dict,
    policy_for,
)
from domain import Anomaly, FaultCode, Severity

CODE = FaultCode.SENSOR_OUT_OF_RANGE


def finding(ts: float, severity: Severity = Severity.MEDIUM, onset: float | None = None) -> Anomaly:
    return Anomaly(
        "d-1", CODE, severity, ts, ts if onset is None else onset, 0.9, "bad", {"metric": "t"}
    )


def feed(stream: AlarmStream, pattern: str, *, step: float = 60.0) -> list[Anomaly]:
    """'x' a finding, '.' none, 'L' latched without a new finding."""
    out = []
    for i, mark in enumerate(pattern):
        ts = i * step
        got = stream.observe(ts, finding(ts) if mark == "x" else None, latched=mark == "L")
        if got is not None:
            out.append(got)
    return out


def test_one_glitch_does_not_open_an_alarm_but_n_of_m_does() -> None:
    policy = AlarmPolicy(confirm_n=3, confirm_m=5)
    assert feed(AlarmStream(CODE, policy), "x....x....x....x") == []
    (alarm,) = feed(AlarmStream(CODE, policy), "..x.x.x....")
    assert alarm.detected_at == 6 * 60.0
    assert alarm.onset_at == 2 * 60.0  # the first finding of the window
    assert alarm.evidence["alarm"]["update"] == "opened"
    assert alarm.evidence["alarm"]["persistence"] == "3 of 5"


def test_an_open_alarm_is_announced_once_however_long_it_lasts() -> None:
    stream = AlarmStream(CODE, AlarmPolicy())
    assert len(feed(stream, "x" * 500)) == 1
    assert stream.is_open


def test_hysteresis_keeps_the_episode_open_through_short_quiet_spells() -> None:
    stream = AlarmStream(CODE, AlarmPolicy(clear_hold_s=30 * 60.0, cooldown_s=0.0))
    alarms = feed(stream, "xxx" + "." * 20 + "xxx" + "." * 40 + "x")
    # 20 quiet minutes do not close it; 40 do, and the next finding is a new episode.
    assert [a.detected_at / 60 for a in alarms] == [0.0, 66.0]


def test_a_recurrence_inside_the_cooldown_continues_the_old_episode() -> None:
    stream = AlarmStream(CODE, AlarmPolicy(cooldown_s=2 * 3600.0))
    alarms = feed(stream, "x" + "." * 30 + "x" + "." * 200 + "x")
    assert [a.detected_at / 60 for a in alarms] == [0.0, 232.0]


def test_a_latching_detector_keeps_its_stream_open_until_it_releases() -> None:
    stream = AlarmStream(CODE, AlarmPolicy(cooldown_s=0.0))
    alarms = feed(stream, "x" + "L" * 100 + "." + "x")
    assert len(alarms) == 2
    assert not feed(AlarmStream(CODE, AlarmPolicy()), ".L.L")  # latched alone opens nothing


def test_severity_escalates_when_the_detector_reports_worse() -> None:
    stream = AlarmStream(CODE, AlarmPolicy())
    first = stream.observe(0.0, finding(0.0, Severity.MEDIUM))
    assert stream.observe(60.0, finding(60.0, Severity.MEDIUM)) is None
    worse = stream.observe(120.0, finding(120.0, Severity.CRITICAL, onset=100.0))
    assert first is not None and worse is not None
    assert worse.severity is Severity.CRITICAL
    assert worse.evidence["alarm"]["update"] == "escalated"
    assert worse.evidence["alarm"]["episode_opened_at"] == 0.0
    assert stream.observe(180.0, finding(180.0, Severity.HIGH)) is None  # no step down


def test_severity_escalates_with_age_up_to_its_cap() -> None:
    policy = AlarmPolicy(escalate_every_s=3600.0, max_severity=Severity.HIGH)
    stream = AlarmStream(CODE, policy)
    stream.observe(0.0, finding(0.0, Severity.LOW))
    raised = [
        a.severity
        for t in range(60, 5 * 3600, 60)
        if (a := stream.observe(float(t), None, latched=True)) is not None
    ]
    assert raised == [Severity.MEDIUM, Severity.HIGH]


def test_an_event_finding_stands_for_its_hold_then_the_stream_closes() -> None:
    stream = AlarmStream(FaultCode.APPLIANCE_ERROR_CODE, AlarmPolicy(event_hold_s=3600.0))
    assert stream.observe(0.0, finding(0.0), event=True) is not None
    assert stream.tick(1800.0) is None and stream.is_open
    stream.tick(3700.0)
    assert not stream.is_open


def test_stream_state_round_trips_through_json() -> None:
    policy = AlarmPolicy(confirm_n=2, confirm_m=4, escalate_every_s=600.0)
    whole = AlarmStream(CODE, policy)
    first = AlarmStream(CODE, policy)
    pattern = "x.x" + "L" * 30 + "." * 5
    assert feed(first, pattern[:2]) == []
    saved = json.loads(json.dumps(first.state()))
    second = AlarmStream.from_state(CODE, policy, saved)
    got = []
    for i, mark in enumerate(pattern[2:], start=2):
        ts = i * 60.0
        out = second.observe(ts, finding(ts) if mark == "x" else None, latched=mark == "L")
        got += [out] if out else []
    assert got == feed(whole, pattern)


def test_anomaly_dict_round_trip() -> None:
    a = finding(5.0)
    assert anomaly_from_dict(json.loads(json.dumps(anomaly_to_dict(a)))) == a


def test_policies_are_configurable_per_code() -> None:
    mine = AlarmPolicy(confirm_n=5, confirm_m=5)
    assert policy_for(CODE, {CODE: mine}) is mine
    assert policy_for(CODE) is DEFAULT_POLICIES[CODE]
    assert policy_for(FaultCode.FRIDGE_TEMP_DRIFT) == AlarmPolicy()


@pytest.mark.parametrize(
    "kwargs", [{"confirm_n": 0}, {"confirm_n": 4, "confirm_m": 3}, {"cooldown_s": -1.0}]
)
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        AlarmPolicy(**kwargs)  # type: ignore[arg-type]
