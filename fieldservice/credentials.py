"""People's credentials: scoped, expiring, revocable secrets, and the sign-in links that carry
them in a work order or an alert. Only a secret's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from enum import StrEnum
from urllib.parse import quote

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from domain.people import Role, actor_name
from fieldservice.config import FieldServiceConfig
from fieldservice.errors import UnknownCustomerError, UnknownTechnicianError
from storage import access_tokens
from storage.models import AccessTokenRow, CustomerRow, DeviceRow, TechnicianRow


class CredentialKind(StrEnum):
    """A `link` signs someone in from a message; a `session` is the browser's cookie made
    from it; an `api` token is a bearer token for scripts and integrations."""

    LINK = "link"
    SESSION = "session"
    API = "api"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(
    *,
    session: Session,
    kind: CredentialKind,
    role: Role,
    subject: str,
    now: float,
    ttl_s: float | None,
    label: str | None = None,
    parent_id: int | None = None,
    created_by: str | None = None,
    expires_at: float | None = None,
) -> tuple[str, AccessTokenRow]:
    """A new secret for `subject` acting as `role`; returns it (shown once) and its row.

    It expires after `ttl_s` (never if None), or at `expires_at` if that is sooner.
    """
    if role is Role.SYSTEM:
        raise ValueError("the service does not sign in")
    secret = secrets.token_urlsafe(24)
    ends = None if ttl_s is None else now + ttl_s
    if expires_at is not None:
        ends = expires_at if ends is None else min(ends, expires_at)
    row = access_tokens.add(
        session=session,
        token_hash=hash_secret(secret),
        kind=kind.value,
        role=role.value,
        subject=subject,
        now=now,
        expires_at=ends,
        label=label,
        parent_id=parent_id,
        created_by=created_by,
    )
    return secret, row


def verify(
    *, session: Session, secret: str, now: float, kinds: Collection[CredentialKind]
) -> AccessTokenRow | None:
    """The live credential this secret stands for, if it is of one of `kinds`."""
    if not secret or len(secret) > 256:
        return None
    row = access_tokens.find(session=session, token_hash=hash_secret(secret))
    if row is None or row.kind not in {kind.value for kind in kinds}:
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return row


# How long a browser stays signed in (never past the link it came from).
SESSION_TTL_S = {
    Role.OPERATOR: 12 * 3600.0,
    Role.TECHNICIAN: 7 * 86400.0,
    Role.CUSTOMER: 30 * 86400.0,
}


def start_session(
    *,
    session: Session,
    role: Role,
    subject: str,
    now: float,
    parent: AccessTokenRow | None = None,
) -> tuple[str, AccessTokenRow]:
    """A browser session for someone who just proved who they are (a link or a token)."""
    if parent is not None:
        parent.last_used_at = now
    return issue(
        session=session,
        kind=CredentialKind.SESSION,
        role=role,
        subject=subject,
        now=now,
        ttl_s=SESSION_TTL_S[role],
        parent_id=parent.id if parent is not None else None,
        expires_at=parent.expires_at if parent is not None else None,
        label="browser session",
        created_by=actor_name(role, subject),
    )


def safe_next(path: str | None, default: str) -> str:
    """`path` if it is a path on this site (never another site's URL), else `default`.

    >>> safe_next("/my/tickets/4", "/my"), safe_next("//evil.test/x", "/my")
    ('/my/tickets/4', '/my')
    """
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return path


def sign_in_url(
    *,
    session: Session,
    role: Role,
    subject: str,
    next_path: str,
    now: float,
    config: FieldServiceConfig,
    label: str | None = None,
) -> str:
    """A link that signs `subject` in as `role` and opens `next_path`, until it expires."""
    secret, _ = issue(
        session=session,
        kind=CredentialKind.LINK,
        role=role,
        subject=subject,
        now=now,
        ttl_s=config.sign_in_link_ttl_s,
        label=label,
        created_by="faultline",
    )
    return link_url(config.public_url, secret, next_path)


def link_url(public_url: str, secret: str, next_path: str) -> str:
    return f"{public_url}/signin?token={secret}&next={quote(next_path, safe='/')}"


def check_subject(*, session: Session, role: Role, subject: str) -> None:
    """Refuse a credential for a technician or customer Faultline does not know."""
    if role is Role.TECHNICIAN and session.get(TechnicianRow, subject) is None:
        raise UnknownTechnicianError(f"technician {subject!r}")
    if role is Role.CUSTOMER and session.get(CustomerRow, subject) is None:
        owns = session.scalar(select(exists().where(DeviceRow.customer_id == subject)))
        if not owns:
            raise UnknownCustomerError(f"customer {subject!r} (no contact record, no device)")


def home_of(role: Role) -> str:
    """The page each role lands on."""
    return {Role.TECHNICIAN: "/tech", Role.CUSTOMER: "/my"}.get(role, "/")
