"""Every fault has one record with every language, and every language carries the same
safety instructions; no advice contradicts the fault or the ticket's progress."""

from __future__ import annotations

import pytest

from detection.catalog import CATALOG
from domain.fault_texts import FAULT_TEXTS, SAFETY, Safety
from domain.faults import FaultCode
from domain.languages import Language
from fieldservice.notifications.fault_texts import fault_text


@pytest.mark.parametrize("code", list(FaultCode))
def test_every_fault_has_every_language(code: FaultCode) -> None:
    record = FAULT_TEXTS[code]
    assert set(record.texts) == set(Language)
    for language, (title, advice) in record.texts.items():
        assert title.strip() and advice.strip(), (code, language)


@pytest.mark.parametrize("code", list(FaultCode))
def test_every_language_carries_the_same_safety_instructions(code: FaultCode) -> None:
    record = FAULT_TEXTS[code]
    for safety in Safety:
        carried = {
            language: SAFETY[safety][language] in advice
            for language, (_, advice) in record.texts.items()
        }
        assert len(set(carried.values())) == 1, (code, safety, carried)
        assert all(carried.values()) == (safety in record.safety), (code, safety, carried)


def test_overheat_says_what_to_do_on_smoke_in_every_language() -> None:
    assert Safety.SMOKE_CALL_FIRE_SERVICE in FAULT_TEXTS[FaultCode.BATTERY_OVERHEAT].safety


def test_a_dead_compressor_never_sends_food_to_the_freezer_that_failed_with_it() -> None:
    texts = FAULT_TEXTS[FaultCode.FRIDGE_COMPRESSOR_FAILURE].texts
    assert "to the freezer" not in texts[Language.EN][1]
    assert "或冷冻室" not in texts[Language.ZH][1] and "移到冷冻室" not in texts[Language.ZH][1]
    assert "冷凍室へ" not in texts[Language.JA][1]


@pytest.mark.parametrize("code", list(FaultCode))
def test_no_alert_promises_a_technician_already_on_the_way(code: FaultCode) -> None:
    """The alert goes out before anyone is booked; "on the way" is the en-route message."""
    texts = FAULT_TEXTS[code].texts
    assert "on the way" not in texts[Language.EN][1]
    assert "正在路上" not in texts[Language.ZH][1]
    assert "向かって" not in texts[Language.JA][1]


def test_the_catalog_and_the_messages_read_the_same_record() -> None:
    for code, entry in CATALOG.items():
        assert (entry.title, entry.customer_advice) == FAULT_TEXTS[code].texts[Language.EN]
        for language in Language:
            assert fault_text(code.value, language.value, {}) == FAULT_TEXTS[code].texts[language]
    assert fault_text("FRIDGE_TEMP_DRIFT", "zh-CN", {})[0] == "冰箱制冷能力下降"
