"""Credentials: the desk issues API tokens and sign-in links, lists and revokes them; anyone
asks who they are signed in as."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ContextDep, OperatorDep, PrincipalDep
from api.deps import SessionDep
from api.errors import NotFound, documented
from api.pagination import MAX_LIMIT, IdCursor, Page, page, row_id
from api.params import ID_PATTERN, INT64_MAX
from domain.people import Role
from fieldservice import credentials
from fieldservice.credentials import CredentialKind
from storage import access_tokens
from storage.models import AccessTokenRow

router = APIRouter(tags=["credentials"])
DAY_S = 86400.0

RoleName = Literal["operator", "technician", "customer"]
Subject = Annotated[str, Query(min_length=1, max_length=128, pattern=ID_PATTERN)]
SubjectFilter = Annotated[str | None, Query(min_length=1, max_length=128, pattern=ID_PATTERN)]


class TokenIn(BaseModel):
    """`POST /tokens`: a credential for one person in one role."""

    model_config = ConfigDict(extra="forbid")

    role: RoleName
    subject: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    kind: Literal["api", "link"] = "api"
    ttl_days: float | None = Field(
        default=30.0, gt=0, le=3650, description="null: an API token that never expires"
    )
    label: str | None = Field(default=None, max_length=200)
    next: str | None = Field(
        default=None, max_length=500, description="link only: the page to open after sign-in"
    )


class TokenOut(BaseModel):
    id: int
    kind: str
    role: str
    subject: str
    label: str | None
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    created_by: str | None

    @classmethod
    def of(cls, row: AccessTokenRow) -> TokenOut:
        return cls(
            id=row.id,
            kind=row.kind,
            role=row.role,
            subject=row.subject,
            label=row.label,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            created_by=row.created_by,
        )


class IssuedTokenOut(TokenOut):
    token: str = Field(description="the secret: shown only now")
    sign_in_url: str | None


class RevokedOut(BaseModel):
    revoked: int = Field(description="how many live credentials (and sessions) were revoked")


class MeOut(BaseModel):
    role: str
    subject: str
    actor: str
    credential_id: int | None


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedTokenOut,
    responses=documented(403, 404),
)
def issue_token(
    token_in: TokenIn, session: SessionDep, context: ContextDep, operator: OperatorDep
) -> IssuedTokenOut:
    role = Role(token_in.role)
    kind = CredentialKind(token_in.kind)
    credentials.check_subject(session=session, role=role, subject=token_in.subject)
    ttl = None if token_in.ttl_days is None else token_in.ttl_days * DAY_S
    if kind is CredentialKind.LINK and ttl is None:
        ttl = context.fieldservice.sign_in_link_ttl_s
    secret, row = credentials.issue(
        session=session,
        kind=kind,
        role=role,
        subject=token_in.subject,
        now=time.time(),
        ttl_s=ttl,
        label=token_in.label,
        created_by=operator.actor,
    )
    url = None
    if kind is CredentialKind.LINK:
        target = credentials.safe_next(token_in.next, credentials.home_of(role))
        url = credentials.link_url(context.fieldservice.public_url, secret, target)
    return IssuedTokenOut(**TokenOut.of(row).model_dump(), token=secret, sign_in_url=url)


@router.get("/tokens", response_model=Page[TokenOut], responses=documented(403))
def list_tokens(
    session: SessionDep,
    _: OperatorDep,
    role: RoleName | None = None,
    subject: SubjectFilter = None,
    kind: Literal["api", "link", "session"] | None = None,
    cursor: IdCursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    """Credentials newest first (never their secrets)."""
    rows = access_tokens.list_page(
        session=session,
        role=role,
        subject=subject,
        kind=kind,
        before_id=row_id(cursor),
        limit=limit + 1,
    )
    result = page(rows, limit, lambda row: str(row.id))
    result["items"] = [TokenOut.of(row) for row in result["items"]]
    return result


@router.delete("/tokens/{token_id}", response_model=RevokedOut, responses=documented(403, 404))
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=INT64_MAX)], session: SessionDep, _: OperatorDep
) -> RevokedOut:
    """Revoke a credential, and every browser session signed in with it."""
    if access_tokens.get(session=session, token_id=token_id) is None:
        raise NotFound(f"credential {token_id}")
    return RevokedOut(
        revoked=access_tokens.revoke(session=session, token_id=token_id, now=time.time())
    )


@router.delete("/tokens", response_model=RevokedOut, responses=documented(403))
def revoke_person(
    session: SessionDep, _: OperatorDep, role: RoleName, subject: Subject
) -> RevokedOut:
    """Revoke everything one person holds: links, browser sessions, API tokens."""
    return RevokedOut(
        revoked=access_tokens.revoke_all(
            session=session, role=role, subject=subject, now=time.time()
        )
    )


@router.get("/me", response_model=MeOut)
def who_am_i(principal: PrincipalDep) -> MeOut:
    return MeOut(
        role=principal.role.value,
        subject=principal.subject,
        actor=principal.actor,
        credential_id=principal.credential_id,
    )
