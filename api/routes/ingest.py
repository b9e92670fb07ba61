"""What ingest accepted and rejected: counters and the dead-letter store."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import ContextDep, OperatorDep
from api.deps import SessionDep
from api.pagination import MAX_LIMIT, decode_cursor, page
from storage import dead_letters

router = APIRouter(tags=["ingest"])


@router.get("/ingest/stats")
def ingest_stats(context: ContextDep, session: SessionDep, _: OperatorDep) -> dict[str, Any]:
    stats = context.ingest_stats()
    stats["dead_letters_by_reason"] = dead_letters.count_by_reason(session=session)
    return stats


@router.get("/dead-letters")
def list_dead_letters(
    session: SessionDep,
    _: OperatorDep,
    reason: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    rows = dead_letters.list_page(
        session=session, before_id=decode_cursor(cursor), limit=limit + 1, reason=reason
    )
    result = page(rows, limit, lambda row: row.id)
    result["items"] = [
        {
            "id": row.id,
            "received_at": row.received_at,
            "topic": row.topic,
            "device_id": row.device_id,
            "reason": row.reason,
            "detail": row.detail,
            "payload_b64": base64.b64encode(row.payload[:4096]).decode(),
        }
        for row in result["items"]
    ]
    return result
