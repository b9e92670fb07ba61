"""Technicians: register, list, and each one's work orders in visiting order."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.auth import OperatorDep, PrincipalDep
from api.deps import SessionDep
from api.errors import NotFound, documented
from api.pagination import MAX_LIMIT, IdCursor, KeyCursor, Page, page, row_id
from api.params import Day
from api.schemas_fieldservice import Skill, TechnicianIn, TechnicianOut, WorkOrderOut
from domain.people import Role
from fieldservice import technicians, work_orders
from fieldservice.errors import ForbiddenError
from fieldservice.work_orders import WorkOrderStatus

router = APIRouter(prefix="/technicians", tags=["technicians"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TechnicianOut,
    responses=documented(403, 409),
)
def create_technician(
    technician_in: TechnicianIn, session: SessionDep, _: OperatorDep
) -> TechnicianOut:
    row = technicians.create(
        session=session, technician_in=technician_in.to_input(), now=time.time()
    )
    session.flush()
    return TechnicianOut.of(row)


@router.get("", response_model=Page[TechnicianOut], responses=documented(403))
def list_technicians(
    session: SessionDep,
    _: OperatorDep,
    skill: Skill | None = None,
    cursor: KeyCursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = technicians.list_page(session=session, after=cursor, limit=limit + 1, skill=skill)
    result = page(rows, limit, lambda row: row.technician_id)
    result["items"] = [TechnicianOut.of(row) for row in result["items"]]
    return result


@router.get("/{technician_id}", response_model=TechnicianOut, responses=documented(403, 404))
def get_technician(
    technician_id: str, session: SessionDep, principal: PrincipalDep
) -> TechnicianOut:
    _only_self(principal.role, principal.subject, technician_id)
    row = technicians.get(session=session, technician_id=technician_id)
    if row is None:
        raise NotFound(f"technician {technician_id!r}")
    return TechnicianOut.of(row)


@router.get(
    "/{technician_id}/work-orders",
    response_model=Page[WorkOrderOut],
    responses=documented(403, 404),
)
def technician_work_orders(
    technician_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    day: Day | None = None,
    status: Annotated[list[WorkOrderStatus] | None, Query()] = None,
    cursor: IdCursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """The technician's jobs by day and route position (default: scheduled ones)."""
    _only_self(principal.role, principal.subject, technician_id)
    if technicians.get(session=session, technician_id=technician_id) is None:
        raise NotFound(f"technician {technician_id!r}")
    rows = work_orders.list_for_technician(
        session=session,
        technician_id=technician_id,
        day=day.isoformat() if day else None,
        statuses=status or [WorkOrderStatus.SCHEDULED],
        after_id=row_id(cursor),
        limit=limit + 1,
    )
    result = page(rows, limit, lambda row: str(row.id))
    result["items"] = [WorkOrderOut.of(row) for row in result["items"]]
    return result


def _only_self(role: Role, subject: str, technician_id: str) -> None:
    if role is Role.OPERATOR or (role is Role.TECHNICIAN and subject == technician_id):
        return
    raise ForbiddenError(f"technician {technician_id!r}'s records are theirs and the desk's")
