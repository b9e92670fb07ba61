"""Provisioning and listing devices, and their telemetry history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.auth import ContextDep
from api.deps import SessionDep
from api.errors import NotFound, documented
from api.pagination import (
    MAX_LIMIT,
    KeyCursor,
    Page,
    ReadingCursor,
    page,
    reading_cursor,
    reading_position,
)
from api.params import Instant, unix_seconds
from api.schemas import DeviceIn, DeviceOut, ReadingOut
from domain.devices import DeviceType
from storage import devices

router = APIRouter(prefix="/devices", tags=["devices"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DeviceOut,
    responses=documented(409),
)
def create_device(device_in: DeviceIn, session: SessionDep, context: ContextDep) -> DeviceOut:
    row = devices.create(session=session, device_in=device_in.to_domain())
    session.flush()
    context.on_device_created(device_in.device_id, device_in.type, device_in.model)
    return DeviceOut.of(devices.to_info(row))


@router.get("", response_model=Page[DeviceOut])
def list_devices(
    session: SessionDep,
    type: DeviceType | None = None,
    cursor: KeyCursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = devices.list_page(
        session=session, after=cursor, limit=limit + 1, type=type
    )
    result = page(rows, limit, lambda row: row.device_id)
    result["items"] = [DeviceOut.of(devices.to_info(row)) for row in result["items"]]
    return result


@router.get("/{device_id}", response_model=DeviceOut, responses=documented(404))
def get_device(device_id: str, session: SessionDep) -> DeviceOut:
    row = devices.get(session=session, device_id=device_id)
    if row is None:
        raise NotFound(f"device {device_id!r}")
    return DeviceOut.of(devices.to_info(row))


@router.get("/{device_id}/telemetry", response_model=Page[ReadingOut], responses=documented(404))
def device_telemetry(
    device_id: str,
    session: SessionDep,
    context: ContextDep,
    metric: str | None = None,
    start: Instant = None,
    end: Instant = None,
    cursor: ReadingCursor = None,
    limit: Limit = 500,
) -> dict[str, Any]:
    if devices.get(session=session, device_id=device_id) is None:
        raise NotFound(f"device {device_id!r}")
    readings = context.telemetry.query(
        device_id=device_id,
        metric=metric,
        start=unix_seconds(start),
        end=unix_seconds(end),
        after=reading_position(cursor),
        limit=limit + 1,
    )
    result = page(readings, limit, lambda r: reading_cursor(r.ts, r.seq))
    result["items"] = [
        ReadingOut(ts=r.ts, seq=r.seq, metrics=dict(r.metrics)) for r in result["items"]
    ]
    return result
