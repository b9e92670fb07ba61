"""Keyset pagination: `{"items": [...], "next": <cursor or null>}`, and the cursors each kind
of list issues. A cursor's shape is in the OpenAPI document as a pattern, and every string
that matches it is a valid position, so a well-formed cursor is never refused."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from api.params import ID_PATTERN, INT64_MAX

T = TypeVar("T")
MAX_LIMIT = 1000
_NEXT = "the `next` of the previous page"
_INT = r"-?[0-9]{1,19}"
_FLOAT = r"-?[0-9]{1,20}(\.[0-9]{1,20})?(e[-+]?[0-9]{1,3})?"

# Lists newest first by row id: the cursor is the last id shown.
IdCursor = Annotated[str | None, Query(pattern=r"^[0-9]{1,19}$", max_length=19, description=_NEXT)]
# Lists ordered by an identifier (device, technician): the cursor is the last one shown.
KeyCursor = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=128, description=_NEXT)]
# Telemetry, ordered by (ts, seq): the cursor is the last reading's `<ts>_<seq>`.
ReadingCursor = Annotated[
    str | None, Query(pattern=f"^{_FLOAT}_{_INT}$", max_length=64, description=_NEXT)
]


class Page(BaseModel, Generic[T]):
    """One page of a list; `next` fetches the following one (null on the last page)."""

    items: list[T]
    next: str | None


def row_id(cursor: str | None) -> int | None:
    """The row id of an `IdCursor`; ids past what the database holds bound nothing more."""
    return None if cursor is None else min(int(cursor), INT64_MAX)


def reading_position(cursor: str | None) -> tuple[float, int] | None:
    """The `(ts, seq)` of a `ReadingCursor`, clamped to values the stores can compare."""
    if cursor is None:
        return None
    ts_text, _, seq_text = cursor.rpartition("_")
    ts = float(ts_text)
    if not math.isfinite(ts):
        ts = math.copysign(sys.float_info.max, ts)
    return ts, max(-INT64_MAX - 1, min(int(seq_text), INT64_MAX))


def reading_cursor(ts: float, seq: int) -> str:
    return f"{ts!r}_{seq}"


def page(items: Sequence[Any], limit: int, position_of: Callable[[Any], str]) -> dict[str, Any]:
    """The response for a fetch of `limit + 1` rows: the first `limit`, and a cursor if more."""
    more = len(items) > limit
    shown = list(items[:limit])
    return {"items": shown, "next": position_of(shown[-1]) if more and shown else None}
