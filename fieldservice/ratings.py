"""The customer rates a visit once it is done (1 to 5 stars, a comment); they may change it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fieldservice import lifecycle
from fieldservice.errors import IllegalTransitionError, InvalidRequestError
from storage.models import TicketRow, TicketStatus, VisitRatingRow

RATEABLE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
MAX_COMMENT_LEN = 2000


def get(*, session: Session, ticket_id: int) -> VisitRatingRow | None:
    return session.get(VisitRatingRow, ticket_id)


def rate(
    *,
    session: Session,
    ticket: TicketRow,
    customer_id: str,
    stars: int,
    comment: str | None,
    actor: str,
    now: float,
) -> VisitRatingRow:
    if TicketStatus(ticket.status) not in RATEABLE:
        raise IllegalTransitionError(
            f"ticket {ticket.id} is {ticket.status}: the visit can be rated once the repair is done"
        )
    if not 1 <= stars <= 5:
        raise InvalidRequestError(f"a rating is 1 to 5 stars, not {stars}")
    text = (comment or "").strip() or None
    if text is not None and len(text) > MAX_COMMENT_LEN:
        raise InvalidRequestError(f"the comment is longer than {MAX_COMMENT_LEN} characters")
    row = session.get(VisitRatingRow, ticket.id)
    if row is None:
        row = VisitRatingRow(ticket_id=ticket.id)
        session.add(row)
    row.customer_id = customer_id
    row.stars = stars
    row.comment = text
    row.rated_at = now
    session.flush()
    lifecycle.record(
        session=session,
        ticket=ticket,
        actor=actor,
        kind="rated",
        now=now,
        note=text,
        data={"stars": stars},
    )
    return row
