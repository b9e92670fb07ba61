"""Messages ingest rejected: stored in batches with the first bytes of each payload (plus its
size and SHA-256), counted by reason, paged newest first without payloads, and kept within
an age and a count limit."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select
from sqlalchemy.orm import Session

from domain.wire import DeadLetter
from storage.models import DeadLetterRow

# Enough to see what a sender meant; the rest of a large payload is only counted and hashed.
PREFIX_BYTES = 4096


@dataclass(frozen=True)
class Retention:
    """Dead letters older than `max_age_s` (by when they were received) go, and only the
    newest `max_count` stay."""

    max_age_s: float
    max_count: int

    def __post_init__(self) -> None:
        if not self.max_age_s > 0:
            raise ValueError(f"max_age_s must be positive, not {self.max_age_s}")
        if self.max_count < 1:
            raise ValueError(f"max_count must be at least 1, not {self.max_count}")


@dataclass(frozen=True)
class DeadLetterSummary:
    """A dead letter as a list shows it: everything but the payload's bytes."""

    id: int
    received_at: float
    topic: str
    device_id: str | None
    reason: str
    detail: str
    payload_bytes: int
    payload_sha256: str


_SUMMARY_COLUMNS = (
    DeadLetterRow.id,
    DeadLetterRow.received_at,
    DeadLetterRow.topic,
    DeadLetterRow.device_id,
    DeadLetterRow.reason,
    DeadLetterRow.detail,
    DeadLetterRow.payload_bytes,
    DeadLetterRow.payload_sha256,
)


def add_many(
    *, session: Session, letters: Sequence[DeadLetter], retention: Retention | None = None
) -> None:
    """Store `letters`; with `retention`, then delete what falls outside it."""
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
                "payload_prefix": bytes(letter.payload[:PREFIX_BYTES]),
                "payload_bytes": len(letter.payload),
                "payload_sha256": hashlib.sha256(letter.payload).hexdigest(),
            }
            for letter in letters
        ],
    )
    if retention is not None:
        trim(session=session, retention=retention, now=max(x.received_at for x in letters))


def trim(*, session: Session, retention: Retention, now: float) -> int:
    """Delete letters received before `now - max_age_s`, then those whose id is `max_count`
    or more below the newest; returns how many went.

    Ids only grow, so that keeps at most `max_count` letters, exactly that many unless ids
    were skipped (a rolled-back insert). Counting instead scans the index on every batch:
    storing one letter at the 100,000 limit took 35 ms that way on SQLite, 2 ms this way.
    """
    removed = 0
    if math.isfinite(retention.max_age_s):
        removed += _deleted(
            session.execute(
                delete(DeadLetterRow).where(DeadLetterRow.received_at < now - retention.max_age_s)
            )
        )
    newest = session.scalar(select(func.max(DeadLetterRow.id)))
    if newest is not None and newest > retention.max_count:
        past_limit = delete(DeadLetterRow).where(DeadLetterRow.id <= newest - retention.max_count)
        removed += _deleted(session.execute(past_limit))
    return removed


def _deleted(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


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
) -> list[DeadLetterSummary]:
    """Up to `limit` dead letters, newest first, older than `before_id` (keyset cursor);
    the payload column is never read."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    query = select(*_SUMMARY_COLUMNS).order_by(DeadLetterRow.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(DeadLetterRow.id < before_id)
    if reason is not None:
        query = query.where(DeadLetterRow.reason == str(reason))
    return [DeadLetterSummary(*row) for row in session.execute(query)]


def get(*, session: Session, letter_id: int) -> DeadLetterRow | None:
    """One dead letter with the stored first bytes of its payload."""
    return session.get(DeadLetterRow, letter_id)
