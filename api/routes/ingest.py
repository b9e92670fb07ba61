"""What ingest accepted and rejected: counters and the dead-letter store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.auth import ContextDep, OperatorDep
from api.deps import SessionDep
from api.errors import NotFound, documented
from api.pagination import MAX_LIMIT, IdCursor, Page, page, row_id
from api.params import INT64_MAX
from api.schemas import DeadLetterDetailOut, DeadLetterOut
from domain.wire import RejectReason
from storage import dead_letters

router = APIRouter(tags=["ingest"])


@router.get("/ingest/stats", responses=documented(403))
def ingest_stats(context: ContextDep, session: SessionDep, _: OperatorDep) -> dict[str, Any]:
    stats = context.ingest_stats()
    stats["dead_letters_by_reason"] = dead_letters.count_by_reason(session=session)
    return stats


@router.get("/dead-letters", response_model=Page[DeadLetterOut], responses=documented(403))
def list_dead_letters(
    session: SessionDep,
    _: OperatorDep,
    reason: RejectReason | None = None,
    cursor: IdCursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    """Newest first; each letter's payload is only sized and hashed here (see its detail)."""
    rows = dead_letters.list_page(
        session=session, before_id=row_id(cursor), limit=limit + 1, reason=reason
    )
    result = page(rows, limit, lambda row: str(row.id))
    result["items"] = [DeadLetterOut.model_validate(row) for row in result["items"]]
    return result


@router.get(
    "/dead-letters/{letter_id}", response_model=DeadLetterDetailOut, responses=documented(403, 404)
)
def get_dead_letter(
    letter_id: Annotated[int, Path(ge=1, le=INT64_MAX)], session: SessionDep
) -> DeadLetterDetailOut:
    row = dead_letters.get(session=session, letter_id=letter_id)
    if row is None:
        raise NotFound(f"dead letter {letter_id}")
    return DeadLetterDetailOut.of(row)
