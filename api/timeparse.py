"""Query-string instants: Unix seconds or RFC 3339 with an offset."""

from __future__ import annotations

from datetime import datetime

from api.errors import BadRequest


def parse_instant(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name}={value!r} is neither Unix seconds nor RFC 3339") from None
    if parsed.tzinfo is None:
        raise BadRequest(f"{name}={value!r} needs a UTC offset, e.g. 2026-11-26T10:00:00Z")
    return parsed.timestamp()
