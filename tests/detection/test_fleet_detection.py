"""Fleet-level checks: normal life raises nothing; exactly the broken fridges are found."""

from __future__ import annotations

from domain import FaultCode, Severity
from tests.detection.conftest import HOUR, FleetRun


def test_a_week_of_normal_life_raises_nothing(healthy_week: FleetRun) -> None:
    warm = [u for u in healthy_week.fleet.units if u.kitchen.base_c >= 27]
    assert len(warm) == 6  # hot kitchens are part of normal life
    found = {d: [a.summary for a in found] for d, found in healthy_week.anomalies.items() if found}
    assert found == {}


def test_exactly_the_faulty_fridges_are_found_with_their_own_code(mixed_fleet: FleetRun) -> None:
    truth = {g.device_id: g.fault_code for g in mixed_fleet.fleet.ground_truth}
    found = {
        d: [a.fault_code for a in found] for d, found in mixed_fleet.anomalies.items() if found
    }
    assert found == {device_id: [code] for device_id, code in truth.items()}


def test_compressor_failures_are_found_within_two_hours(mixed_fleet: FleetRun) -> None:
    for truth in mixed_fleet.fleet.ground_truth:
        if truth.fault_code is not FaultCode.FRIDGE_COMPRESSOR_FAILURE:
            continue
        (anomaly,) = mixed_fleet.anomalies[truth.device_id]
        assert anomaly.severity is Severity.CRITICAL
        assert 0 < anomaly.detected_at - truth.onset_ts <= 2.25 * HOUR
        assert abs(anomaly.onset_at - truth.onset_ts) <= 1 * HOUR


def test_drift_is_found_within_hours_of_becoming_noticeable(mixed_fleet: FleetRun) -> None:
    for truth in mixed_fleet.fleet.ground_truth:
        if truth.fault_code is not FaultCode.FRIDGE_TEMP_DRIFT:
            continue
        (anomaly,) = mixed_fleet.anomalies[truth.device_id]
        noticeable = mixed_fleet.noticeable_at(truth.device_id, after=truth.onset_ts)
        assert noticeable is not None
        assert anomaly.severity is Severity.HIGH
        assert anomaly.detected_at - noticeable <= 12 * HOUR
        # The onset estimate lies between the true onset and the detection.
        assert truth.onset_ts - 1 * HOUR <= anomaly.onset_at < anomaly.detected_at
