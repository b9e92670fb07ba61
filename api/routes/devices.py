"""Provisioning and listing devices, and their telemetry history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from api.auth import ContextDep, OperatorDep, PrincipalDep
from api.context import ApiContext
from api.deps import SessionDep
from api.errors import NotFound, documented
from api.identity import DeviceIdentity, IdentityDisabled
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
from api.schemas import DeviceIn, DeviceOut, MqttCredentials, ReadingOut
from domain.devices import DeviceType
from domain.people import Role
from fieldservice import scopes
from storage import devices

router = APIRouter(prefix="/devices", tags=["devices"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DeviceOut,
    responses=documented(403, 409, 503),
)
def create_device(
    device_in: DeviceIn, session: SessionDep, context: ContextDep, _: OperatorDep
) -> DeviceOut:
    """Provision a device; with device identity on, the answer carries its broker
    credentials (`mqtt`), the only time the secret is shown."""
    row = devices.create(session=session, device_in=device_in.to_domain())
    session.flush()
    out = DeviceOut.of(devices.to_info(row))
    if context.identity is not None:
        # Before the device is committed: if the broker cannot be told, nothing is made.
        secret = context.identity.issue(device_in.device_id)
        out.mqtt = MqttCredentials(username=device_in.device_id, password=secret)
    context.on_device_created(device_in.device_id, device_in.type, device_in.model)
    return out


@router.post(
    "/{device_id}/credentials",
    response_model=MqttCredentials,
    responses=documented(403, 404, 409, 503),
)
def rotate_credentials(
    device_id: str, session: SessionDep, context: ContextDep, _: OperatorDep
) -> MqttCredentials:
    """A new broker secret for the device; the old one stops working and a connection
    made with it is closed."""
    identity = _identity(context)
    if devices.get(session=session, device_id=device_id) is None:
        raise NotFound(f"device {device_id!r}")
    return MqttCredentials(username=device_id, password=identity.issue(device_id))


@router.delete(
    "/{device_id}/credentials",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=documented(403, 404, 409, 503),
)
def revoke_credentials(
    device_id: str, session: SessionDep, context: ContextDep, _: OperatorDep
) -> Response:
    """Withdraw the device's broker identity: it is disconnected and refused."""
    identity = _identity(context)
    if devices.get(session=session, device_id=device_id) is None:
        raise NotFound(f"device {device_id!r}")
    identity.revoke(device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _identity(context: ApiContext) -> DeviceIdentity:
    if context.identity is None:
        raise IdentityDisabled(
            "device identity is off on this service: configure the broker's dynamic-security "
            "administrator (FAULTLINE_MQTT_ADMIN_URL)"
        )
    return context.identity


@router.get("", response_model=Page[DeviceOut], responses=documented(403))
def list_devices(
    session: SessionDep,
    principal: PrincipalDep,
    type: DeviceType | None = None,
    cursor: KeyCursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """The desk sees every device; a customer their own."""
    scopes.only(principal.role, Role.CUSTOMER, what="the device list")
    rows = devices.list_page(
        session=session,
        after=cursor,
        limit=limit + 1,
        type=type,
        customer_id=principal.subject if principal.role is Role.CUSTOMER else None,
    )
    result = page(rows, limit, lambda row: row.device_id)
    result["items"] = [DeviceOut.of(devices.to_info(row)) for row in result["items"]]
    return result


@router.get("/{device_id}", response_model=DeviceOut, responses=documented(403, 404))
def get_device(device_id: str, session: SessionDep, principal: PrincipalDep) -> DeviceOut:
    row = scopes.device(
        session=session, role=principal.role, subject=principal.subject, device_id=device_id
    )
    return DeviceOut.of(devices.to_info(row))


@router.get(
    "/{device_id}/telemetry", response_model=Page[ReadingOut], responses=documented(403, 404)
)
def device_telemetry(
    device_id: str,
    session: SessionDep,
    context: ContextDep,
    principal: PrincipalDep,
    metric: str | None = None,
    start: Instant = None,
    end: Instant = None,
    cursor: ReadingCursor = None,
    limit: Limit = 500,
) -> dict[str, Any]:
    scopes.device(
        session=session, role=principal.role, subject=principal.subject, device_id=device_id
    )
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
