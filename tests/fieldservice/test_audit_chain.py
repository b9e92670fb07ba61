"""Tampering with any stored audit entry — edit, delete, reorder — makes `faultline audit verify`
fail and name the entry; an untouched chain passes."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from domain import Anomaly, Severity
from faultline import cli
from fieldservice import flows
from fieldservice.config import FieldServiceConfig
from storage.models import TicketStatus

CONFIG = FieldServiceConfig()


def _verify(engine: Engine, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    """`faultline audit verify --database-url …`: (exit status, what it printed)."""
    capsys.readouterr()
    status = cli.main(["audit", "verify", "--database-url", str(engine.url), *extra])
    return status, capsys.readouterr().out


@pytest.fixture
def chained(
    engine: Engine, session_factory: sessionmaker[Session], anomaly: Callable[..., Anomaly]
) -> Engine:
    """A ticket with a dozen events on the chain: opened, repeats, cancelled."""
    now = time.time()
    with session_factory.begin() as session:
        ticket, _ = flows.handle_anomaly(session=session, anomaly=anomaly(), now=now, config=CONFIG)
        for i in range(8):
            flows.handle_anomaly(
                session=session,
                anomaly=anomaly(severity=Severity.HIGH, detected_at=1_764_010_000.0 + i),
                now=now + i,
                config=CONFIG,
            )
        flows.change_status(
            session=session,
            ticket_id=ticket.id,
            status=TicketStatus.CANCELLED,
            actor="desk-anna",
            note="customer replaced the fridge",
            now=now + 60,
            config=CONFIG,
        )
    return engine


def test_untouched_chain_verifies(chained: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _verify(chained, capsys)
    assert status == 0, out
    assert "intact: 10 entries" in out


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        # edit the stored body (e.g. who cancelled) without fixing the hash
        (
            "UPDATE audit_entries SET body = replace(body, 'desk-anna', 'desk-bob') WHERE seq = 10",
            "audit entry #10",
        ),
        # edit and recompute the entry's own hash: the next link still breaks
        ("UPDATE audit_entries SET hash = :fake, body = body || ' ' WHERE seq = 4", "#5"),
        # delete an entry in the middle
        ("DELETE FROM audit_entries WHERE seq = 6", "#6"),
        # delete the newest entry: its timeline event is left without one
        ("DELETE FROM audit_entries WHERE seq = 10", "no audit entry"),
        # swap two entries' positions
        (
            "UPDATE audit_entries SET seq = -3 WHERE seq = 3;"
            "UPDATE audit_entries SET seq = 3 WHERE seq = 7;"
            "UPDATE audit_entries SET seq = 7 WHERE seq = -3",
            "#3",
        ),
        # rewrite history on the timeline behind the chain's back
        ("UPDATE ticket_events SET actor = 'someone-else' WHERE id = 2", "ticket event 2"),
    ],
    ids=["edit", "edit-and-rehash", "delete", "delete-last", "reorder", "timeline-edit"],
)
def test_tampering_is_detected_and_named(
    chained: Engine, capsys: pytest.CaptureFixture[str], tamper: str, named: str
) -> None:
    with chained.begin() as connection:
        for statement in tamper.split(";"):
            connection.execute(text(statement), {"fake": "f" * 64} if ":fake" in statement else {})
    status, out = _verify(chained, capsys)
    assert status == 1, out
    tampered = [line for line in out.splitlines() if line.startswith("TAMPERED")]
    assert tampered and any(named in line for line in tampered), out


def test_truncating_the_tail_is_caught_with_a_head_kept_elsewhere(
    chained: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _verify(chained, capsys)[1].split("head #")[1].strip()
    with chained.begin() as connection:
        connection.execute(text("DELETE FROM ticket_events WHERE id = 10"))
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 10"))
    assert _verify(chained, capsys)[0] == 0  # a consistent, shorter chain: undetectable alone
    status, out = _verify(chained, capsys, "--expect-head", head)
    assert status == 1
    assert "audit entry #10" in out
