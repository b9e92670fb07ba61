"""A customer's consent: proactive monitoring per appliance, and the channels alerts use."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.auth import PrincipalDep
from api.deps import SessionDep
from domain.people import Role
from fieldservice import consent, customers
from fieldservice.errors import ForbiddenError
from storage import consents, devices

router = APIRouter(prefix="/customers", tags=["consent"])

CustomerId = Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")


class ConsentIn(BaseModel):
    """Only what is given changes."""

    model_config = ConfigDict(extra="forbid")

    monitoring: dict[str, bool] = Field(
        default_factory=dict, description="device id -> proactive monitoring on/off"
    )
    channels: list[Literal["email", "webhook", "mqtt"]] | None = None


def _own(role: Role, subject: str, customer_id: str) -> None:
    if role is not Role.OPERATOR and not (role is Role.CUSTOMER and subject == customer_id):
        raise ForbiddenError(f"customer {customer_id!r}'s consent is theirs and the desk's")


def _consent(session: Session, customer_id: str) -> dict[str, Any]:
    owned = devices.list_page(session=session, customer_id=customer_id, limit=1000)
    monitoring = consents.monitoring_of(session=session, device_ids=[d.device_id for d in owned])
    contact = customers.get(session=session, customer_id=customer_id)
    return {
        "customer_id": customer_id,
        "monitoring": monitoring,
        "channels": list(contact.channels or []) if contact else [],
    }


@router.get("/{customer_id}/consent")
def get_consent(
    session: SessionDep, principal: PrincipalDep, customer_id: str = CustomerId
) -> dict[str, Any]:
    _own(principal.role, principal.subject, customer_id)
    return _consent(session, customer_id)


@router.put("/{customer_id}/consent")
def put_consent(
    consent_in: ConsentIn,
    session: SessionDep,
    principal: PrincipalDep,
    customer_id: str = CustomerId,
) -> dict[str, Any]:
    """Turning monitoring off stops detection, tickets and alerts for that appliance."""
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
