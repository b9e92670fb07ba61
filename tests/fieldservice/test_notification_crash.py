"""Killing the notification worker mid-delivery loses nothing and, by Message-ID, duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fieldservice.notifications import outbox
from storage.models import NotificationRow
from tests.fieldservice.receivers import SmtpReceiver
from tests.service_harness import wait_until

MESSAGES = 8
SMTP_DELAY_S = 0.25
KILLS = 1


@pytest.fixture
def slow_smtp() -> SmtpReceiver:
    receiver = SmtpReceiver(delay_s=SMTP_DELAY_S)
    receiver.start()
    yield receiver  # type: ignore[misc]
    receiver.stop()


def _worker(db_url: str, smtp: SmtpReceiver, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FAULTLINE_DATABASE_URL": db_url,
        "FAULTLINE_SMTP_HOST": "127.0.0.1",
        "FAULTLINE_SMTP_PORT": str(smtp.port),
        "FAULTLINE_NOTIFY_LEASE_S": "1.0",
        "FAULTLINE_NOTIFY_INTERVAL_S": "0.05",
        "FAULTLINE_MQTT_URL": "mqtt://127.0.0.1:9",  # never used: no MQTT messages here
    }
    log = (workdir / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "faultline.fieldservice_worker", "--only", "notifications"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_worker_killed_mid_delivery_loses_and_duplicates_nothing(
    engine: object, session_factory: sessionmaker[Session], slow_smtp: SmtpReceiver, tmp_path: Path
) -> None:
    now = time.time()
    keys = [f"crash-test/{i}" for i in range(MESSAGES)]
    with session_factory.begin() as session:
        for i, key in enumerate(keys):
            outbox.enqueue(
                session=session,
                message=outbox.Message(
                    key=key,
                    audience="customer",
                    kind="fault_alert",
                    channel="email",
                    recipient=f"customer{i}@example.test",
                    subject=f"alert {i}",
                    body="keep the door shut",
                    customer_id=f"c-{i}",
                ),
                now=now,
            )
    db_url = str(session_factory.kw["bind"].url)  # type: ignore[union-attr]

    for kill in range(KILLS):
        worker = _worker(db_url, slow_smtp, tmp_path)
        # Let it get some way in, then kill it while the SMTP server is slowly accepting.
        target = (kill + 1) * MESSAGES // (KILLS + 1)
        wait_until(lambda t=target: len(slow_smtp.received) >= t, 30, f"{target} mails")
        time.sleep(SMTP_DELAY_S / 2)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

    with session_factory() as session:
        stuck = session.scalar(
            select(func.count())
            .select_from(NotificationRow)
            .where(NotificationRow.status == "sending")
        )
    assert stuck, "the kill did not land mid-delivery: nothing was left leased"

    worker = _worker(db_url, slow_smtp, tmp_path)
    try:

        def all_sent() -> bool:
            with session_factory() as session:
                statuses = session.scalars(select(NotificationRow.status)).all()
            return all(status == "sent" for status in statuses)

        wait_until(all_sent, 40, "every notification marked sent after the restart")
    finally:
        worker.terminate()
        worker.wait(10)

    expected = {outbox.message_id(key): key for key in keys}
    unique = slow_smtp.unique()
    assert set(unique) == set(expected), "a message was lost or an unknown one appeared"
    assert {mail.key for mail in unique.values()} == set(keys)
    physical = len(slow_smtp.received)
    print(f"{physical} SMTP deliveries, {len(unique)} distinct Message-IDs, {KILLS} kills")
    # At most the message in flight at each kill arrives twice, with the same Message-ID.
    assert physical - len(unique) <= KILLS, slow_smtp.received
