"""The service's health (DESIGN.md "Health"): every part doing its job, or why not.

`GET /health` answers 200 only while the broker is connected, the stores take writes,
ingest is not stuck (the batch being stored is younger than a bound), readings arrive
close behind publication, loss upstream is low and the notification outbox drains.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from fieldservice.notifications import outbox
from ingest.stats import IngestStats
from storage.database import SQLITE_BUSY_TIMEOUT_MS
from storage.telemetry import TelemetryStore

Check = tuple[bool, str]


@dataclass(frozen=True, slots=True)
class HealthBounds:
    """When a part counts as failing; from the settings (`FAULTLINE_HEALTH_*`)."""

    max_pending_s: float = 60.0
    max_lag_s: float = 300.0
    max_loss_rate: float = 0.05
    max_outbox_overdue_s: float = 600.0


PROBE_TIMEOUT_MS = 1000  # a health check answers within about this, whatever holds a lock


def database(db: Engine) -> Check:
    """A write the database must accept (then rolled back): a read-only or locked database
    fails here, not only an unreachable one; waiting at most `PROBE_TIMEOUT_MS`."""
    try:
        with db.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            # On the driver's connection: SQLAlchemy's would begin a transaction first.
            raw: Any = connection.connection.dbapi_connection
            if sqlite:
                raw.execute(f"PRAGMA busy_timeout={PROBE_TIMEOUT_MS}")
            try:
                with connection.begin() as transaction:
                    if connection.dialect.name == "postgresql":
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {PROBE_TIMEOUT_MS}")
                        connection.exec_driver_sql(
                            f"SET LOCAL statement_timeout = {PROBE_TIMEOUT_MS}"
                        )
                    connection.execute(
                        text("UPDATE alembic_version SET version_num = version_num")
                    )
                    transaction.rollback()
            finally:
                if sqlite:  # the connection goes back to the pool: give it its wait back
                    raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return True, "ok"
    except Exception as exc:  # reported, not hidden: health is where failures show
        return False, f"not writable: {str(exc)[:200]}"


def telemetry(store: TelemetryStore) -> Check:
    try:
        store.ping()
        return True, "ok"
    except Exception as exc:
        return False, str(exc)[:200]


def broker(stats: IngestStats) -> Check:
    if stats.connected:
        return True, "connected"
    error = stats.last_connect_error
    return False, f"not connected; retrying ({error})" if error else "not connected; retrying"


def ingest(stats: IngestStats, bounds: HealthBounds, *, worker_alive: bool) -> dict[str, Check]:
    """Stuck, lag and loss, each with the figure behind it."""
    checks: dict[str, Check] = {}
    age = stats.oldest_pending_age_s()
    if not worker_alive:
        checks["ingest"] = (False, "the ingest worker has stopped")
    elif age > bounds.max_pending_s:
        checks["ingest"] = (
            False,
            f"stuck: the batch being stored has waited {age:.0f} s "
            f"(bound {bounds.max_pending_s:.0f} s; {stats.sink_failures} store failures)",
        )
    else:
        checks["ingest"] = (True, f"storing; inbox {stats.inbox_depth}")
    p50, _ = stats.lag.quantiles()
    checks["ingest_lag"] = (
        p50 <= bounds.max_lag_s,
        f"readings arrive {p50:.1f} s behind publication (median; bound {bounds.max_lag_s:.0f} s)",
    )
    received, lost, devices = stats.loss.totals()
    expected = received + lost
    rate = lost / expected if expected else 0.0
    # A few readings are too few to call a rate: judged from `min_expected` on.
    failing = expected >= stats.loss.min_expected and rate > bounds.max_loss_rate
    detail = f"{rate:.1%} of readings lost upstream in the last minute ({lost} of {expected}"
    detail += f", from {devices} devices)"
    if failing:
        detail += "; check the broker's queue limits (max_queued_messages, deploy/mosquitto.conf)"
    checks["loss"] = (not failing, detail)
    return checks


def notifications(sessions: sessionmaker[Session], bounds: HealthBounds) -> Check:
    try:
        with sessions() as session:
            count, oldest = outbox.overdue(session=session, now=time.time())
    except Exception as exc:
        return False, f"cannot read the outbox: {str(exc)[:200]}"
    if oldest > bounds.max_outbox_overdue_s:
        return False, (
            f"not draining: {count} notifications due, the oldest for {oldest / 60:.0f} min"
        )
    return True, f"draining; {count} due"


_PROBES = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")
PROBE_DEADLINE_S = 3.0


def _answer(future: Future[Check], what: str, deadline: float) -> Check:
    """A probe's answer, or a failure if it is still waiting (a lock, a dead server)."""
    try:
        return future.result(timeout=max(deadline - time.monotonic(), 0.0))
    except FutureTimeout:
        return False, f"{what} did not answer within {PROBE_DEADLINE_S:.0f} s"


def all_checks(
    *,
    db: Engine,
    store: TelemetryStore,
    sessions: sessionmaker[Session],
    stats: IngestStats,
    bounds: HealthBounds,
    worker_alive: bool,
    extra: Callable[[], dict[str, Check]] | None = None,
    outbox_watched: bool = True,
) -> dict[str, Check]:
    """Every check; those that reach a store run side by side, each bounded in time, so
    health answers promptly even while a store hangs."""
    deadline = time.monotonic() + PROBE_DEADLINE_S
    probes = {
        "database": _PROBES.submit(database, db),
        "telemetry": _PROBES.submit(telemetry, store),
    }
    if outbox_watched:
        probes["notifications"] = _PROBES.submit(notifications, sessions, bounds)
    checks = {"broker": broker(stats)}
    checks.update(ingest(stats, bounds, worker_alive=worker_alive))
    for name, future in probes.items():
        checks[name] = _answer(future, f"the {name} check", deadline)
    if extra is not None:
        checks.update(extra())
    return checks
