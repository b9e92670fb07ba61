"""The running service: ingest + detection + field service + API, wired from settings."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from api.app import create_app
from api.context import ApiContext
from detection.fleet_model import FleetModel
from domain.wire import Channel, subscription_for
from faultline import fleet_model_file, health
from faultline.detection_checkpoint import DetectionCheckpointer
from faultline.device_catalog import CatalogWatch, spec_error
from faultline.directory import DeviceDirectory
from faultline.failures import is_transient
from faultline.fieldservice_worker import FieldServiceWorker
from faultline.health import HealthBounds
from faultline.identity import open_identity
from faultline.pipeline import Pipeline
from faultline.retention import DeadLetterTrim, RetentionSchedule
from faultline.settings import Settings
from faultline.telemetry_backend import open_telemetry_store, spool_health
from ingest.broker_address import BrokerAddress
from ingest.broker_identity import IdentityError
from ingest.inbox import Inbox
from ingest.messages import RawMessage
from ingest.stats import IngestStats
from ingest.subscriber import Subscriber
from ingest.validation import Validator
from ingest.worker import IngestWorker
from storage.database import make_engine, make_session_factory, migrate
from storage.embedded_telemetry import EmbeddedTelemetryStore
from storage.spooled_telemetry import SpooledTelemetryStore
from storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)


class ServiceStartError(RuntimeError):
    """The service cannot start; the message names what to fix."""


def open_database(url: str) -> Engine:
    """The relational store, migrated to the newest schema; one clear error if it cannot
    be opened (a missing folder, a wrong password, a server that is not there)."""
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        db = make_engine(url)
        migrate(db)
    except (SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        hint = ""
        if shown.startswith("sqlite"):
            hint = " (does its folder exist, and can Faultline write there?)"
        raise ServiceStartError(f"cannot open the database {shown}: {reason}{hint}") from exc
    return db


class Service:
    """Owns every long-lived part; `start()` / `stop()` in that order, once each."""

    def __init__(self, settings: Settings) -> None:
        self.token_generated = not settings.admin_token
        self.settings = settings.with_token()
        self.db = open_database(self.settings.database_url)
        self.sessions = make_session_factory(self.db)
        try:
            self.identity = open_identity(self.settings)
        except IdentityError as exc:
            raise ServiceStartError(f"device identity: {exc}") from exc
        self.directory = DeviceDirectory(self.sessions)
        self.telemetry: TelemetryStore = open_telemetry_store(
            self.settings, device_type=self.directory.lookup
        )
        # The embedded store is compacted here; InfluxDB keeps its own retention.
        compacted = self.telemetry if isinstance(self.telemetry, EmbeddedTelemetryStore) else None
        if settings.telemetry_raw_days <= 0:
            compacted = None
        self.retention = RetentionSchedule(
            compacted,
            raw_days=settings.telemetry_raw_days,
            every_s=settings.telemetry_compact_every_s,
            dead_letters=DeadLetterTrim(self.sessions, self.settings.dead_letter_retention()),
        )
        self.fieldservice = FieldServiceWorker(
            settings=self.settings, sessions=self.sessions, telemetry=self.telemetry
        )
        self.stats = IngestStats()
        self.checkpointer = DetectionCheckpointer(
            self.sessions,
            name=self.settings.mqtt_client_id,
            every_s=self.settings.detection_checkpoint_s or float("inf"),
        )
        self.pipeline = Pipeline(
            telemetry=self.telemetry,
            sessions=self.sessions,
            directory=self.directory,
            engine=self.checkpointer.restore(fleet_model=self._fleet_model()),
            fieldservice=self.fieldservice.config,
            on_readings=self.fieldservice.observe,
            after_detection=self.fieldservice.after_detection,
            after_batch=self.checkpointer.after_batch,
            catalog=CatalogWatch(self.sessions),
            dead_letter_retention=self.settings.dead_letter_retention(),
        )
        inbox: Inbox[RawMessage] = Inbox(self.settings.ingest_queue_size)
        prefix = self.settings.mqtt_prefix
        self.subscriber = Subscriber(
            address=BrokerAddress.parse(self.settings.mqtt_url),
            client_id=self.settings.mqtt_client_id,
            topics=[
                subscription_for(channel, prefix)
                for channel in (Channel.TELEMETRY, Channel.EVENTS, Channel.STATUS)
            ],
            inbox=inbox,
            stats=self.stats,
            ca_file=self.settings.mqtt_ca_file or None,
            mqtt5=self.settings.mqtt_protocol == "5",
        )
        self.worker = IngestWorker(
            inbox=inbox,
            validator=Validator(
                lookup=self.directory.lookup,
                stats=self.stats,
                prefix=prefix,
                max_future_s=self.settings.ingest_max_future_s,
            ),
            sink=self.pipeline,
            ack=self.subscriber.ack,
            stats=self.stats,
            batch_size=self.settings.ingest_batch_size,
            max_age_s=self.settings.ingest_batch_age_s,
            is_transient=is_transient,
        )
        self.health_bounds = HealthBounds(
            max_pending_s=self.settings.health_max_pending_s,
            max_lag_s=self.settings.health_max_lag_s,
            max_loss_rate=self.settings.health_max_loss_rate,
            max_outbox_overdue_s=self.settings.health_max_outbox_overdue_s,
        )
        self.app: FastAPI = create_app(
            ApiContext(
                sessions=self.sessions,
                telemetry=self.telemetry,
                admin_token=self.settings.admin_token,
                health_checks=self.health_checks,
                ingest_stats=self.ingest_snapshot,
                on_device_created=self.directory.add,
                identity=self.identity,
                fieldservice=self.fieldservice.config,
                max_body_bytes=self.settings.http_max_body_bytes,
                model_spec_error=spec_error,
            )
        )
        self._http: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None

    def start(self, *, http: bool = True) -> None:
        """Start every part; the HTTP port is taken first, so a port held by another
        program stops the start before any message is taken (`ServiceStartError`)."""
        listening = self._bind_http() if http else None
        self.retention.start()
        self.worker.start()
        if self.settings.fieldservice_enabled:
            self.fieldservice.start()
        self.subscriber.start()
        if listening is not None:
            self._start_http(listening)

    def _fleet_model(self) -> FleetModel | None:
        if not self.settings.fleet_model:
            return None
        model = fleet_model_file.load(self.settings.fleet_model)
        log.info("fleet model %s: groups %s", self.settings.fleet_model, sorted(model.forests_))
        return model

    def close(self) -> None:
        """Release the stores of a service that was never started."""
        self.telemetry.close()
        self.db.dispose()
        if self.identity is not None:
            self.identity.close()

    def stop(self) -> None:
        """Stop taking messages, store and acknowledge what was taken, then disconnect;
        the detection state is checkpointed once the last batch is through."""
        self.subscriber.pause()
        self.worker.stop()
        self.checkpointer.save(self.pipeline.engine)
        self.subscriber.stop()
        if self._http is not None and self._http_thread is not None:
            self._http.should_exit = True
            self._http_thread.join(10)
        self.retention.stop()
        self.fieldservice.stop()
        self.telemetry.close()
        self.db.dispose()
        if self.identity is not None:
            self.identity.close()

    def health_checks(self) -> dict[str, tuple[bool, str]]:
        extra = None
        if isinstance(self.telemetry, SpooledTelemetryStore):
            spooled = self.telemetry
            extra = lambda: {"telemetry_spool": spool_health(spooled.status())}  # noqa: E731
        return health.all_checks(
            db=self.db,
            store=self.telemetry,
            sessions=self.sessions,
            stats=self.stats,
            bounds=self.health_bounds,
            worker_alive=self.worker.alive,
            extra=extra,
            outbox_watched=self.settings.fieldservice_enabled,
        )

    def ingest_snapshot(self) -> dict[str, Any]:
        """Ingest's counters, plus the telemetry spool's depth when there is one."""
        snapshot = self.stats.snapshot()
        snapshot["detector_resets"] = self.pipeline.detector_resets
        if isinstance(self.telemetry, SpooledTelemetryStore):
            snapshot["telemetry_spool"] = self.telemetry.status()
        checkpointer = self.checkpointer
        snapshot["detection_checkpoint"] = {
            "saves": checkpointer.saves,
            "failures": checkpointer.failures,
            "restored_devices": checkpointer.restored_devices,
            "last_error": checkpointer.last_error,
        }
        return snapshot

    def _bind_http(self) -> socket.socket:
        host, port = self.settings.http_host, self.settings.http_port
        try:
            listening = socket.create_server((host, port), reuse_port=False)
        except OSError as exc:
            raise ServiceStartError(
                f"cannot serve the API on {host}:{port}: {exc.strerror or exc} "
                "(another program holds the port? choose --http-port or FAULTLINE_HTTP_PORT)"
            ) from exc
        return listening

    def _start_http(self, listening: socket.socket) -> None:
        config = uvicorn.Config(self.app, log_level="warning")
        self._http = uvicorn.Server(config)
        server = self._http
        self._http_thread = threading.Thread(
            target=lambda: server.run(sockets=[listening]), name="http", daemon=True
        )
        self._http_thread.start()
        deadline = time.monotonic() + 10
        while not self._http.started and time.monotonic() < deadline:
            time.sleep(0.02)

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.http_host}:{self.settings.http_port}"

    def summary(self) -> dict[str, Any]:
        return {"ingest": self.stats.snapshot(), "tickets_opened": self.pipeline.tickets_opened}
