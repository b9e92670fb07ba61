"""Fault titles and customer advice in the customer's language, from `domain.fault_texts`
(one record per fault with every language); a code it lacks falls back to the diagnosis
the ticket carries (English)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.fault_texts import FAULT_TEXTS
from domain.faults import FaultCode
from domain.languages import language_of


def fault_text(fault_code: str, language: str, diagnosis: Mapping[str, Any]) -> tuple[str, str]:
    """(title, advice) for the customer in `language`."""
    try:
        record = FAULT_TEXTS.get(FaultCode(fault_code))
    except ValueError:
        record = None
    if record is not None:
        return record.texts[language_of(language)]
    title = str(diagnosis.get("title") or fault_code.replace("_", " ").lower())
    advice = str(diagnosis.get("customer_advice") or "no action is needed from you for now.")
    return title, advice
