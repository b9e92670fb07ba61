"""Dead letters: stored in batches, counted by reason, paged newest first."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.wire import DeadLetter, RejectReason
from storage import dead_letters


def _letter(n: int, reason: RejectReason) -> DeadLetter:
    return DeadLetter(
        topic=f"devices/fridge-{n:04d}/telemetry",
        payload=b'{"ts": NaN}' if reason is RejectReason.NON_FINITE else b"\xff not json",
        reason=reason,
        detail=f"letter {n}",
        received_at=1_764_000_000.0 + n,
        device_id=f"fridge-{n:04d}" if n % 2 else None,
    )


def test_letters_are_counted_by_reason(session: Session) -> None:
    reasons = [RejectReason.BAD_JSON] * 3 + [RejectReason.NON_FINITE] * 2
    dead_letters.add_many(session=session, letters=[_letter(n, r) for n, r in enumerate(reasons)])
    dead_letters.add_many(session=session, letters=[])
    session.commit()

    assert dead_letters.count_by_reason(session=session) == {"bad_json": 3, "non_finite": 2}


def test_pages_run_newest_first_keep_the_payload_and_filter_by_reason(session: Session) -> None:
    reasons = [RejectReason.BAD_JSON, RejectReason.NON_FINITE] * 4
    dead_letters.add_many(session=session, letters=[_letter(n, r) for n, r in enumerate(reasons)])
    session.commit()

    seen: list[str] = []
    before = None
    while page := dead_letters.list_page(session=session, before_id=before, limit=3):
        seen += [row.detail for row in page]
        before = page[-1].id
    assert seen == [f"letter {n}" for n in reversed(range(8))]

    non_finite = dead_letters.list_page(session=session, reason=RejectReason.NON_FINITE, limit=2)
    assert [row.detail for row in non_finite] == ["letter 7", "letter 5"]
    letter = dead_letters.get(session=session, letter_id=non_finite[0].id)
    assert letter is not None and letter.payload_prefix == b'{"ts": NaN}'
    assert non_finite[0].payload_bytes == len(b'{"ts": NaN}')
    assert non_finite[0].device_id == "fridge-0007"
    assert non_finite[0].topic == "devices/fridge-0007/telemetry"
