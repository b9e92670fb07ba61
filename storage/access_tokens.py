"""Credentials by the hash of their secret: add, find, list, revoke (a link with its sessions)."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import AccessTokenRow


def add(
    *,
    session: Session,
    token_hash: str,
    kind: str,
    role: str,
    subject: str,
    now: float,
    expires_at: float | None,
    label: str | None = None,
    parent_id: int | None = None,
    created_by: str | None = None,
) -> AccessTokenRow:
    row = AccessTokenRow(
        token_hash=token_hash,
        kind=kind,
        role=role,
        subject=subject,
        label=label,
        parent_id=parent_id,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def find(*, session: Session, token_hash: str) -> AccessTokenRow | None:
    """The credential with this hash, whatever its state (the caller checks expiry)."""
    return session.scalars(
        select(AccessTokenRow).where(AccessTokenRow.token_hash == token_hash)
    ).first()


def get(*, session: Session, token_id: int) -> AccessTokenRow | None:
    return session.get(AccessTokenRow, token_id)


def list_page(
    *,
    session: Session,
    role: str | None = None,
    subject: str | None = None,
    kind: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AccessTokenRow]:
    """Credentials newest first, optionally of one role, subject or kind."""
    query = select(AccessTokenRow).order_by(AccessTokenRow.id.desc()).limit(limit)
    if role is not None:
        query = query.where(AccessTokenRow.role == role)
    if subject is not None:
        query = query.where(AccessTokenRow.subject == subject)
    if kind is not None:
        query = query.where(AccessTokenRow.kind == kind)
    if before_id is not None:
        query = query.where(AccessTokenRow.id < before_id)
    return list(session.scalars(query))


def revoke(*, session: Session, token_id: int, now: float) -> int:
    """Revoke a credential and every session made from it; returns how many were live."""
    result = session.execute(
        update(AccessTokenRow)
        .where(or_(AccessTokenRow.id == token_id, AccessTokenRow.parent_id == token_id))
        .where(AccessTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_all(*, session: Session, role: str, subject: str, now: float) -> int:
    """Revoke everything one person holds (links, sessions, API tokens)."""
    result = session.execute(
        update(AccessTokenRow)
        .where(AccessTokenRow.role == role, AccessTokenRow.subject == subject)
        .where(AccessTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
