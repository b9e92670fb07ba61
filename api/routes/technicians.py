"""Technicians: register, list, and each one's work orders in visiting order."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.deps import SessionDep
from api.errors import NotFound, documented
from api.pagination import MAX_LIMIT, IdCursor, KeyCursor, Page, page, row_id
from api.params import Day
from api.schemas_fieldservice import Skill, TechnicianIn, TechnicianOut, WorkOrderOut
from fieldservice import technicians, work_orders
from fieldservice.work_orders import WorkOrderStatus

router = APIRouter(prefix="/technicians", tags=["technicians"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TechnicianOut,
    responses=documented(409),
)
def create_technician(technician_in: TechnicianIn, session: SessionDep) -> TechnicianOut:
    row = technicians.create(
        session=session, technician_in=technician_in.to_input(), now=time.time()
    )
    session.flush()
    return TechnicianOut.of(row)


@router.get("", response_model=Page[TechnicianOut])
def list_technicians(
    session: SessionDep, skill: Skill | None = None, cursor: KeyCursor = None, limit: Limit = 100
) -> dict[str, Any]:
    rows = technicians.list_page(
        session=session, after=cursor, limit=limit + 1, skill=skill
    )
    result = page(rows, limit, lambda row: row.technician_id)
    result["items"] = [TechnicianOut.of(row) for row in result["items"]]
    return result


@router.get("/{technician_id}", response_model=TechnicianOut, responses=documented(404))
def get_technician(technician_id: str, session: SessionDep) -> TechnicianOut:
    row = technicians.get(session=session, technician_id=technician_id)
    if row is None:
        raise NotFound(f"technician {technician_id!r}")
    return TechnicianOut.of(row)


@router.get(
    "/{technician_id}/work-orders", response_model=Page[WorkOrderOut], responses=documented(404)
)
def technician_work_orders(
    technician_id: str,
    session: SessionDep,
    day: Day | None = None,
    status: Annotated[list[WorkOrderStatus] | None, Query()] = None,
    cursor: IdCursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """The technician's jobs by day and route position (default: scheduled ones)."""
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
