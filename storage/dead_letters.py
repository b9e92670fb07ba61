"""Messages ingest rejected: stored in batches, counted by reason, paged newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from domain.wire import DeadLetter
from storage.models import DeadLetterRow


def add_many(*, session: Session, letters: Sequence[DeadLetter]) -> None:
    if not letters:
        return
    session.execute(
        insert(DeadLetterRow),
        [
            {
                "received_at": letter.received_at,
                "topic": letter.topic,
                "device_id": letter.device_id,
                "reason": str(letter.reason),
                "detail": letter.detail,
                "payload": bytes(letter.payload),
            }
            for letter in letters
        ],
    )


def count_by_reason(*, session: Session) -> dict[str, int]:
    rows = session.execute(
        select(DeadLetterRow.reason, func.count()).group_by(DeadLetterRow.reason)
    )
    return {reason: count for reason, count in rows}


def list_page(
    *,
    session: Session,
    before_id: int | None = None,
    limit: int = 100,
    reason: str | None = None,
) -> list[DeadLetterRow]:
    """Up to `limit` dead letters, newest first, older than `before_id` (keyset cursor)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(DeadLetterRow.id < before_id)
    if reason is not None:
        query = query.where(DeadLetterRow.reason == str(reason))
    return list(session.scalars(query))
