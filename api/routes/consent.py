"""A customer's consent: proactive monitoring per appliance, and the channels alerts use."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema
from sqlalchemy.orm import Session

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.errors import documented
from api.params import ID_PATTERN
from domain.people import Role
from fieldservice import consent, customers
from fieldservice.customers import CHANNELS
from fieldservice.errors import ForbiddenError
from storage import consents, devices

router = APIRouter(prefix="/customers", tags=["consent"])

CustomerId = Path(min_length=1, max_length=128, pattern=ID_PATTERN)
DeviceId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=ID_PATTERN)]
Channel = Literal["email", "webhook", "mqtt"]
MAX_DEVICES = 1000  # the most devices a consent answer lists
# Pydantic states a key pattern as `patternProperties`, which lets any other key through;
# `propertyNames` says what the API checks: every key is a device id.
Monitoring = Annotated[
    dict[DeviceId, bool],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"minLength": 1, "maxLength": 128, "pattern": ID_PATTERN},
            "additionalProperties": {"type": "boolean"},
            "maxProperties": MAX_DEVICES,
        }
    ),
]


class ConsentIn(BaseModel):
    """Only what is given changes."""

    model_config = ConfigDict(extra="forbid")

    monitoring: Monitoring = Field(
        default_factory=dict,
        max_length=MAX_DEVICES,
        description="device id -> proactive monitoring on/off; each device must be the customer's",
    )
    channels: list[Channel] | None = Field(default=None, max_length=len(CHANNELS))


class ConsentOut(BaseModel):
    customer_id: str
    monitoring: dict[str, bool] = Field(description="each of the customer's devices -> on/off")
    channels: list[str] = Field(description="the channels alerts go out on")


def _own(role: Role, subject: str, customer_id: str) -> None:
    if role is not Role.OPERATOR and not (role is Role.CUSTOMER and subject == customer_id):
        raise ForbiddenError(f"customer {customer_id!r}'s consent is theirs and the desk's")


def _consent(session: Session, customer_id: str) -> ConsentOut:
    owned = devices.list_page(session=session, customer_id=customer_id, limit=MAX_DEVICES)
    monitoring = consents.monitoring_of(session=session, device_ids=[d.device_id for d in owned])
    contact = customers.get(session=session, customer_id=customer_id)
    return ConsentOut(
        customer_id=customer_id,
        monitoring=monitoring,
        channels=list(contact.channels or []) if contact else [],
    )


@router.get("/{customer_id}/consent", response_model=ConsentOut, responses=documented(403))
def get_consent(
    session: SessionDep, principal: PrincipalDep, customer_id: str = CustomerId
) -> ConsentOut:
    _own(principal.role, principal.subject, customer_id)
    return _consent(session, customer_id)


@router.put("/{customer_id}/consent", response_model=ConsentOut, responses=documented(403))
def put_consent(
    consent_in: ConsentIn,
    session: SessionDep,
    principal: PrincipalDep,
    customer_id: str = CustomerId,
) -> ConsentOut:
    """Turning monitoring off stops detection, tickets and alerts for that appliance; 403 for
    a device that is not the customer's."""
    _own(principal.role, principal.subject, customer_id)
    now = time.time()
    for device_id, on in consent_in.monitoring.items():
        consent.set_monitoring(
            session=session,
            customer_id=customer_id,
            device_id=device_id,
            monitoring=on,
            actor=principal.actor,
            now=now,
        )
    if consent_in.channels is not None:
        consent.set_channels(
            session=session, customer_id=customer_id, channels=consent_in.channels, now=now
        )
    return _consent(session, customer_id)
