"""Field service in the background: the notification worker, and the scheduler loop that
releases household holds, runs dispatch rounds, verifies repairs from telemetry and
escalates SLAs. Also runnable on its own: `python -m faultline.fieldservice_worker`.

Every step is its own short transaction and gets ids, not live rows, so several
processes can run these loops against one PostgreSQL database.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DetectionEngine
from domain import Reading
from faultline.device_presence import DevicePresence
from faultline.repair_watch import RepairWatch
from faultline.settings import Settings
from fieldservice import closure, cohorts, escalation, flows, households, scheduling
from fieldservice.config import FieldServiceConfig
from fieldservice.dispatch import DispatchRules
from fieldservice.notifications.delivery import Channel, Deliverer
from fieldservice.notifications.email import SmtpChannel
from fieldservice.notifications.mqtt_downlink import MqttDownlinkChannel
from fieldservice.notifications.webhook import WebhookChannel
from fieldservice.sla import DEFAULT_TARGETS, SlaPolicy, Target
from ingest.broker_address import BrokerAddress
from storage.database import make_engine, make_session_factory, migrate
from storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)


def config_from(settings: Settings) -> FieldServiceConfig:
    targets = dict(DEFAULT_TARGETS)
    for tier, values in settings.sla_targets.items():
        targets[tier] = Target(float(values["respond_min"]), float(values["resolve_min"]))
    return FieldServiceConfig(
        sla=SlaPolicy(targets=targets, at_risk_fraction=settings.sla_at_risk_fraction),
        dispatch=DispatchRules(speed_kmh=settings.dispatch_speed_kmh),
        reopen_window_s=settings.reopen_window_days * 86400.0,
        closure_quiet_s=settings.closure_quiet_s,
        closure_verify_s=settings.closure_verify_s,
        follow_up_delay_s=settings.follow_up_delay_s,
        household_hold_s=settings.household_hold_s,
        warranty_years=settings.warranty_years,
        desk_email=settings.desk_email or None,
        webhook_url=settings.webhook_url or None,
        mqtt_prefix=settings.mqtt_prefix,
        customer_topic_prefix=settings.customer_topic_prefix or None,
        public_url=settings.public_url or f"http://{settings.http_host}:{settings.http_port}",
        sign_in_link_ttl_s=settings.sign_in_link_days * 86400.0,
        cohort_fdr=settings.cohort_fdr,
        cohort_every_s=settings.cohort_every_s,
    )


def channels_from(settings: Settings) -> dict[str, Channel]:
    """The delivery channels these settings configure (a missing one leaves messages pending)."""
    channels: dict[str, Channel] = {}
    if settings.smtp_host:
        channels["email"] = SmtpChannel(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            starttls=settings.smtp_starttls,
            timeout_s=settings.smtp_timeout_s,
        )
    if settings.webhook_secret:
        channels["webhook"] = WebhookChannel(secret=settings.webhook_secret)
    address = BrokerAddress.parse(settings.mqtt_url)
    channels["mqtt"] = MqttDownlinkChannel(
        host=address.host,
        port=address.port,
        client_id=f"{settings.mqtt_client_id}-downlink-{os.getpid()}",
        username=address.username,
        password=address.password,
        tls=address.tls,
    )
    return channels


class FieldServiceWorker:
    """Owns the two background loops; `start()` / `stop()` once each."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: sessionmaker[Session],
        telemetry: TelemetryStore | None,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.telemetry = telemetry
        self.config = config_from(settings)
        self.clock = clock
        self.watch = RepairWatch()
        self.presence = DevicePresence()
        self._cohorts_at = float("-inf")
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._channels = channels
        self.deliverer: Deliverer | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors = 0
        self.rounds = 0

    def observe(self, readings: Sequence[Reading]) -> None:
        """Readings stored (pipeline hook): who was heard from."""
        self.presence.observe(readings)

    def after_detection(self, readings: Sequence[Reading], engine: DetectionEngine) -> None:
        """Readings went through detection (pipeline hook): repairs under verification."""
        self.watch(readings, engine)

    def start(self, *, notifications: bool = True, scheduler: bool = True) -> None:
        if notifications:
            self.deliverer = self._make_deliverer()
            self._spawn("fieldservice-notify", self._notify_loop)
        if scheduler:
            self._spawn("fieldservice-scheduler", self._scheduler_loop)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)
        for channel in (self.deliverer.channels if self.deliverer else {}).values():
            close = getattr(channel, "close", None)
            if close is not None:
                close()

    def run_scheduler_once(self) -> dict[str, Any]:
        """One pass of everything but delivery, each step in its own transaction."""
        now = self.clock()
        report: dict[str, Any] = {}
        with self.sessions.begin() as session:
            report["adopted"] = flows.adopt_orphans(session=session, now=now, config=self.config)
        with self.sessions.begin() as session:
            report["released"] = households.release_holds(
                session=session, now=now, config=self.config
            )
        with self.sessions.begin() as session:
            result = scheduling.dispatch_round(
                session=session, now=now, config=self.config, readings=self._readings
            )
            report["assigned"], report["queued"] = result.assigned, result.queued
        with self.sessions.begin() as session:
            flows.observe_telemetry(session=session, seen=self.watch.drain(), now=now)
            report["closed"] = flows.verify_closures(session=session, now=now, config=self.config)
            self.watch.watch(closure.watched_faults(session=session))
        with self.sessions.begin() as session:
            report["escalated"] = [
                (e.ticket_id, e.milestone, e.state.value)
                for e in escalation.escalate(session=session, now=now, config=self.config)
            ]
        with self.sessions.begin() as session:
            report["presence"] = self.presence.fold(session=session, now=now)
        if now - self._cohorts_at >= self.config.cohort_every_s:
            with self.sessions.begin() as session:
                report["cohorts_flagged"] = [
                    (c.dimension, c.cohort)
                    for c in cohorts.notify_desk(session=session, now=now, config=self.config)
                ]
            self._cohorts_at = now
        self.rounds += 1
        return report

    def run_notifications_once(self) -> int:
        if self.deliverer is None:
            self.deliverer = self._make_deliverer()
        return self.deliverer.run_once()

    def _readings(self, device_id: str, start: float, end: float) -> Sequence[Reading]:
        if self.telemetry is None:
            return []
        return self.telemetry.query(device_id=device_id, start=start, end=end, limit=5000)

    def _make_deliverer(self) -> Deliverer:
        return Deliverer(
            sessions=self.sessions,
            channels=self._channels if self._channels is not None else channels_from(self.settings),
            worker_id=self.worker_id,
            lease_s=self.settings.notify_lease_s,
            max_attempts=self.settings.notify_max_attempts,
            backoff_base_s=self.settings.notify_backoff_s,
        )

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _notify_loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_notifications_once()
            except Exception:  # the loop must outlive a database hiccup; the row keeps its lease
                self.errors += 1
                log.exception("notification pass failed; retrying")
                busy = 0
            if not busy:
                self._stop.wait(self.settings.notify_interval_s)

    def _scheduler_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_scheduler_once()
            except Exception:  # logged with its traceback; the next round retries
                self.errors += 1
                log.exception("field-service round failed; retrying")
            self._stop.wait(self.settings.fieldservice_interval_s)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the loops standalone (settings from FAULTLINE_* variables) until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m faultline.fieldservice_worker")
    parser.add_argument("--only", choices=["notifications", "scheduler"], default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    engine = make_engine(settings.database_url)
    migrate(engine)
    telemetry = None
    if args.only != "notifications":
        # Readings for the work orders' evidence charts. Repairs are verified only where
        # ingest runs (it feeds the telemetry watch), i.e. in `faultline run`.
        from faultline.telemetry_backend import open_telemetry_store

        telemetry = open_telemetry_store(settings)
    worker = FieldServiceWorker(
        settings=settings, sessions=make_session_factory(engine), telemetry=telemetry
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker.start(
        notifications=args.only in (None, "notifications"),
        scheduler=args.only in (None, "scheduler"),
    )
    print(f"field-service worker {worker.worker_id} running", flush=True)
    stop.wait()
    worker.stop()
    if telemetry is not None:
        telemetry.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
