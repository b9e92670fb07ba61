"""Detected anomalies, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.pagination import MAX_LIMIT, IdCursor, Page, page, row_id
from api.params import DeviceIdFilter
from api.schemas import AnomalyOut
from storage import anomalies

router = APIRouter(prefix="/anomalies", tags=["anomalies"])


@router.get("", response_model=Page[AnomalyOut])
def list_anomalies(
    session: SessionDep,
    device_id: DeviceIdFilter = None,
    cursor: IdCursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    rows = anomalies.list_page(
        session=session, before_id=row_id(cursor), limit=limit + 1, device_id=device_id
    )
    result = page(rows, limit, lambda row: str(row.id))
    result["items"] = [AnomalyOut.model_validate(row) for row in result["items"]]
    return result
