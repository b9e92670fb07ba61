"""Who acts on Faultline: the service itself, a desk operator, a technician, a customer."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Each person's role decides what they may see and do; the service acts as `system`."""

    SYSTEM = "system"
    OPERATOR = "operator"
    TECHNICIAN = "technician"
    CUSTOMER = "customer"


# Roles a credential can carry (the service never signs in).
PERSON_ROLES: tuple[Role, ...] = (Role.OPERATOR, Role.TECHNICIAN, Role.CUSTOMER)


def actor_name(role: Role, subject: str) -> str:
    """How a person appears on a ticket's timeline and in the audit chain.

    >>> actor_name(Role.TECHNICIAN, "t-05"), actor_name(Role.CUSTOMER, "c-17")
    ('t-05', 'customer:c-17')
    """
    return f"customer:{subject}" if role is Role.CUSTOMER else subject
