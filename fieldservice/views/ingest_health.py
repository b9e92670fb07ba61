"""Ingest health for the desk: ingest's counters, dead letters by reason, the newest ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from storage import dead_letters
from storage.dead_letters import DeadLetterSummary


@dataclass(frozen=True)
class IngestHealth:
    stats: dict[str, Any]
    by_reason: dict[str, int]
    letters: list[DeadLetterSummary]


def ingest_health(
    *, session: Session, stats: dict[str, Any], reason: str | None = None, limit: int = 50
) -> IngestHealth:
    """Two queries; `stats` is ingest's in-memory snapshot (`/api/v1/ingest/stats`)."""
    return IngestHealth(
        stats=stats,
        by_reason=dead_letters.count_by_reason(session=session),
        letters=dead_letters.list_page(session=session, limit=limit, reason=reason),
    )
