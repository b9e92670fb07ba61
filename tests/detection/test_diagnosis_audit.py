"""Every detector's alarm carries a full diagnosis: fault code, confidence, an onset before
the detection, evidence saying what moved, by how much, against what baseline, and the
catalog entry. Checked on each type's own faults from telemetry alone (no error codes),
so the type detectors speak for themselves."""

from __future__ import annotations

import json

import pytest

from detection.catalog import CATALOG
from detection.engine import DetectionEngine
from device_sim import kinds
from device_sim.faults import FaultSpec
from domain import Anomaly, DeviceType, FaultCode, Reading
from tests.detection.conftest import DAY, HOUR, START

EVIDENCE_KEYS = ("metric", "observed", "baseline", "delta")
FAST = {  # faults that show within a few days of onset
    FaultCode.FRIDGE_COMPRESSOR_FAILURE,
    FaultCode.FRIDGE_TEMP_DRIFT,
    FaultCode.WASHER_IMBALANCE,
    FaultCode.WASHER_DRAIN_BLOCKED,
    FaultCode.AC_FILTER_CLOGGED,
    FaultCode.BATTERY_OVERHEAT,
}


def _alarms(device_type: DeviceType, code: FaultCode, days: float) -> list[Anomaly]:
    kind = kinds.kind(device_type)
    fault = FaultSpec(code, START + 6 * HOUR, 1.0)
    units = [
        kind.sample(f"{kind.id_prefix}-{i:04d}", 40 + i, model=kind.models[i % 2], fault=fault)
        for i in range(2)
    ]
    bank = kind.bank(units, start_ts=START, interval_s=60.0)
    engine = DetectionEngine()
    found: list[Anomaly] = []
    for ts, metrics in bank.ticks(days * DAY):
        for i, unit in enumerate(units):
            reading = Reading(unit.device_id, ts, bank.seq, {k: v[i] for k, v in metrics.items()})
            found += engine.process(device_type, reading)
    return found


@pytest.mark.parametrize(
    ("device_type", "code"),
    [(t, c) for t, k in kinds.available().items() for c in k.faults if c in FAST],
    ids=lambda v: getattr(v, "value", v),
)
def test_a_type_detectors_alarm_is_fully_diagnosed(
    device_type: DeviceType, code: FaultCode
) -> None:
    # A washer runs a few loads a week: give it the time to show.
    found = _alarms(device_type, code, days=10.0 if device_type is DeviceType.WASHER else 4.0)
    assert found and {a.fault_code for a in found} == {code}
    for anomaly in found:
        assert anomaly.diagnosis == CATALOG[code].as_dict()
        assert 0.0 < anomaly.confidence <= 1.0
        assert START + 5 * HOUR <= anomaly.onset_at <= anomaly.detected_at
        missing = [k for k in EVIDENCE_KEYS if k not in anomaly.evidence]
        assert not missing, f"{code.value} evidence lacks {missing}"
        json.dumps(anomaly.evidence)
