"""Provisioning and listing devices, and their telemetry history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.auth import ContextDep, OperatorDep, PrincipalDep
from api.deps import SessionDep
from api.errors import BadRequest
from api.pagination import MAX_LIMIT, decode_cursor, page
from api.schemas import DeviceIn, DeviceOut, ReadingOut
from api.timeparse import parse_instant
from domain.devices import DeviceType
from domain.people import Role
from fieldservice import scopes
from storage import devices

router = APIRouter(prefix="/devices", tags=["devices"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DeviceOut)
def create_device(
    device_in: DeviceIn, session: SessionDep, context: ContextDep, _: OperatorDep
) -> DeviceOut:
    row = devices.create(session=session, device_in=device_in.to_domain())
    session.flush()
    context.on_device_created(device_in.device_id, device_in.type, device_in.model)
    return DeviceOut.of(devices.to_info(row))


@router.get("")
def list_devices(
    session: SessionDep,
    principal: PrincipalDep,
    type: DeviceType | None = None,
    cursor: str | None = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """The desk sees every device; a customer their own."""
    scopes.only(principal.role, Role.CUSTOMER, what="the device list")
    rows = devices.list_page(
        session=session,
        after=decode_cursor(cursor),
        limit=limit + 1,
        type=type,
        customer_id=principal.subject if principal.role is Role.CUSTOMER else None,
    )
    result = page(rows, limit, lambda row: row.device_id)
    result["items"] = [DeviceOut.of(devices.to_info(row)) for row in result["items"]]
    return result


@router.get("/{device_id}", response_model=DeviceOut)
def get_device(device_id: str, session: SessionDep, principal: PrincipalDep) -> DeviceOut:
    row = scopes.device(
        session=session, role=principal.role, subject=principal.subject, device_id=device_id
    )
    return DeviceOut.of(devices.to_info(row))


@router.get("/{device_id}/telemetry")
def device_telemetry(
    device_id: str,
    session: SessionDep,
    context: ContextDep,
    principal: PrincipalDep,
    metric: str | None = None,
    start: str | None = None,
    end: str | None = None,
    cursor: str | None = None,
    limit: Limit = 500,
) -> dict[str, Any]:
    scopes.device(
        session=session, role=principal.role, subject=principal.subject, device_id=device_id
    )
    after = decode_cursor(cursor)
    if after is not None and not (isinstance(after, list) and len(after) == 2):
        raise BadRequest("cursor does not belong to a telemetry listing")
    readings = context.telemetry.query(
        device_id=device_id,
        metric=metric,
        start=parse_instant(start, "start"),
        end=parse_instant(end, "end"),
        after=(float(after[0]), int(after[1])) if after else None,
        limit=limit + 1,
    )
    result = page(readings, limit, lambda r: [r.ts, r.seq])
    result["items"] = [
        ReadingOut(ts=r.ts, seq=r.seq, metrics=dict(r.metrics)) for r in result["items"]
    ]
    return result
