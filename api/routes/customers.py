"""Customers' contact records: channels, language, preferred visit windows, access notes."""

from __future__ import annotations

import time

from fastapi import APIRouter, Path

from api.auth import OperatorDep, PrincipalDep
from api.deps import SessionDep
from api.errors import NotFound, documented
from api.params import ID_PATTERN
from api.schemas_fieldservice import CustomerIn, CustomerOut
from domain.people import Role
from fieldservice import customers
from fieldservice.errors import ForbiddenError

router = APIRouter(prefix="/customers", tags=["customers"])

CustomerId = Path(min_length=1, max_length=128, pattern=ID_PATTERN)


@router.put("/{customer_id}", response_model=CustomerOut, responses=documented(403))
def put_customer(
    customer_in: CustomerIn, session: SessionDep, _: OperatorDep, customer_id: str = CustomerId
) -> CustomerOut:
    row = customers.upsert(
        session=session, customer_in=customer_in.to_input(customer_id), now=time.time()
    )
    return CustomerOut.of(row)


@router.get("/{customer_id}", response_model=CustomerOut, responses=documented(403, 404))
def get_customer(
    session: SessionDep, principal: PrincipalDep, customer_id: str = CustomerId
) -> CustomerOut:
    if principal.role is not Role.OPERATOR and not (
        principal.role is Role.CUSTOMER and principal.subject == customer_id
    ):
        raise ForbiddenError(f"customer {customer_id!r}'s record is theirs and the desk's")
    row = customers.get(session=session, customer_id=customer_id)
    if row is None:
        raise NotFound(f"customer {customer_id!r}")
    return CustomerOut.of(row)
