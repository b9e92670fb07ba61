"""Detected anomalies, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.errors import documented
from api.pagination import MAX_LIMIT, IdCursor, Page, page, row_id
from api.params import DeviceIdFilter
from api.schemas import AnomalyOut
from domain.people import Role
from fieldservice import scopes
from storage import anomalies

router = APIRouter(prefix="/anomalies", tags=["anomalies"])


@router.get("", response_model=Page[AnomalyOut], responses=documented(403, 404))
def list_anomalies(
    session: SessionDep,
    principal: PrincipalDep,
    device_id: DeviceIdFilter = None,
    cursor: IdCursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    """The desk sees every anomaly; others name a `device_id` of theirs."""
    if principal.role is not Role.OPERATOR:
        if device_id is None:
            scopes.only(principal.role, what="listing every device's anomalies")
        else:
            scopes.device(
                session=session,
                role=principal.role,
                subject=principal.subject,
                device_id=device_id,
            )
    rows = anomalies.list_page(
        session=session, before_id=row_id(cursor), limit=limit + 1, device_id=device_id
    )
    result = page(rows, limit, lambda row: str(row.id))
    result["items"] = [AnomalyOut.model_validate(row) for row in result["items"]]
    return result
