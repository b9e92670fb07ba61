"""Path and query parameters several routes share, bounded to what the service can hold:
row ids fit a 64-bit integer, identifiers have one grammar, instants are finite times."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AwareDatetime, BeforeValidator, Field

INT64_MAX = 2**63 - 1
ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
# datetime's range, 0001-01-01 to 9999-12-31, in Unix seconds.
_EARLIEST_S = -62_135_596_800.0
_LATEST_S = 253_402_300_799.0

TicketId = Annotated[int, Path(ge=1, le=INT64_MAX, description="a ticket's id")]
TicketIdFilter = Annotated[int | None, Query(ge=1, le=INT64_MAX)]
DeviceIdFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=128)]


def _text(value: Any) -> Any:
    """Refuse a number where an RFC 3339 date or time is due (pydantic would read Unix time)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 date or date-time string")
    try:
        float(value)
    except ValueError:
        return value
    raise ValueError("expected an RFC 3339 date or date-time, not a number")


# A calendar day or an instant written as RFC 3339 text, never as a number.
Day = Annotated[date, BeforeValidator(_text)]
DateTime = Annotated[AwareDatetime, BeforeValidator(_text)]
UnixSeconds = Annotated[float, Field(ge=_EARLIEST_S, le=_LATEST_S, allow_inf_nan=False)]
Instant = Annotated[
    UnixSeconds | DateTime | None,
    Query(description="Unix seconds, or RFC 3339 with an offset (2026-11-26T10:00:00Z)"),
]


def unix_seconds(instant: float | datetime | None) -> float | None:
    return instant.timestamp() if isinstance(instant, datetime) else instant
