"""Opaque cursors for keyset pagination: `{"items": [...], "next": <cursor or null>}`."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from api.errors import BadRequest

T = TypeVar("T")
MAX_LIMIT = 1000


def encode_cursor(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        raise BadRequest(f"cursor {cursor!r} is not one this API issued") from None


def page(items: Sequence[Any], limit: int, position_of: Any) -> dict[str, Any]:
    """The response for a fetch of `limit + 1` rows: the first `limit`, and a cursor if more."""
    more = len(items) > limit
    shown = list(items[:limit])
    return {
        "items": shown,
        "next": encode_cursor(position_of(shown[-1])) if more and shown else None,
    }
