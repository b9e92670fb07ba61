"""What schemathesis cannot read in the OpenAPI document: rules across fields, which JSON
Schema cannot state. Loaded by `test_schemathesis` through SCHEMATHESIS_HOOKS."""

from __future__ import annotations

import re
from typing import Any

import schemathesis

_TIME = re.compile(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")


@schemathesis.hook.apply_to(method="POST", path="/api/v1/technicians")
def filter_body(context: Any, body: Any) -> bool:
    """A shift ends after it starts (the API answers 422 otherwise, as its schema says)."""
    hours = body.get("working_hours") if isinstance(body, dict) else None
    if not isinstance(hours, dict):
        return True
    start, end = hours.get("start", "08:00"), hours.get("end", "18:00")
    if isinstance(start, str) and isinstance(end, str) and _TIME.match(start) and _TIME.match(end):
        return end > start
    return True
