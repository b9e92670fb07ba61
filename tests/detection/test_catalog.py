"""The fault catalog covers every fault code with a usable diagnosis."""

from __future__ import annotations

import json

import pytest

from detection.catalog import ANY_SKILL, CATALOG
from domain import DeviceType, FaultCode, Severity


def test_every_fault_code_has_a_catalog_entry() -> None:
    assert set(CATALOG) == set(FaultCode)


@pytest.mark.parametrize("code", list(FaultCode))
def test_entry_is_complete_and_json_ready(code: FaultCode) -> None:
    entry = CATALOG[code]
    assert entry.fault_code is code
    assert entry.probable_cause and entry.recommended_action and entry.customer_advice
    assert entry.skill in {t.value for t in DeviceType} | {ANY_SKILL}
    assert 0 < entry.repair_minutes <= 8 * 60
    assert isinstance(entry.severity, Severity)
    as_dict = entry.as_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["parts"] == list(entry.parts)
    assert {
        "probable_cause",
        "recommended_action",
        "parts",
        "skill",
        "repair_minutes",
        "severity",
        "customer_advice",
    } <= set(as_dict)


def test_fridge_faults_need_a_fridge_technician() -> None:
    fridge = [c for c in FaultCode if c.value.startswith("FRIDGE_")]
    assert {CATALOG[c].skill for c in fridge} == {DeviceType.FRIDGE.value}
    assert CATALOG[FaultCode.FRIDGE_COMPRESSOR_FAILURE].severity is Severity.CRITICAL
    assert CATALOG[FaultCode.FRIDGE_TEMP_DRIFT].severity is Severity.HIGH
