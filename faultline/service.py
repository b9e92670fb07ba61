"""The running service: ingest + detection + field service + API, wired from settings."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import text

from api.app import create_app
from api.context import ApiContext
from detection.fleet_model import FleetModel
from domain.wire import Channel, subscription_for
from faultline import fleet_model_file
from faultline.detection_checkpoint import DetectionCheckpointer
from faultline.directory import DeviceDirectory
from faultline.fieldservice_worker import FieldServiceWorker
from faultline.pipeline import Pipeline
from faultline.retention import DeadLetterTrim, RetentionSchedule
from faultline.settings import Settings
from faultline.telemetry_backend import open_telemetry_store, spool_health
from ingest.broker_address import BrokerAddress
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


class Service:
    """Owns every long-lived part; `start()` / `stop()` in that order, once each."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.with_token()
        self.db = make_engine(self.settings.database_url)
        migrate(self.db)
        self.sessions = make_session_factory(self.db)
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
            after_batch=self.checkpointer.after_batch,
            dead_letter_retention=self.settings.dead_letter_retention(),
        )
        inbox: queue.Queue[RawMessage] = queue.Queue(self.settings.ingest_queue_size)
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
        )
        self.app: FastAPI = create_app(
            ApiContext(
                sessions=self.sessions,
                telemetry=self.telemetry,
                admin_token=self.settings.admin_token,
                health_checks=self.health_checks,
                ingest_stats=self.ingest_snapshot,
                on_device_created=self.directory.add,
                fieldservice=self.fieldservice.config,
                max_body_bytes=self.settings.http_max_body_bytes,
            )
        )
        self._http: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None

    def start(self, *, http: bool = True) -> None:
        self.retention.start()
        self.worker.start()
        if self.settings.fieldservice_enabled:
            self.fieldservice.start()
        self.subscriber.start()
        if http:
            self._start_http()

    def _fleet_model(self) -> FleetModel | None:
        if not self.settings.fleet_model:
            return None
        model = fleet_model_file.load(self.settings.fleet_model)
        log.info("fleet model %s: groups %s", self.settings.fleet_model, sorted(model.forests_))
        return model

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

    def health_checks(self) -> dict[str, tuple[bool, str]]:
        checks: dict[str, tuple[bool, str]] = {}
        checks["broker"] = (
            (True, "connected") if self.stats.connected else (False, "not connected; retrying")
        )
        try:
            with self.db.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = (True, "ok")
        except Exception as exc:  # reported, not hidden: health is where failures show
            checks["database"] = (False, str(exc)[:200])
        try:
            self.telemetry.ping()
            checks["telemetry"] = (True, "ok")
        except Exception as exc:
            checks["telemetry"] = (False, str(exc)[:200])
        if isinstance(self.telemetry, SpooledTelemetryStore):
            checks["telemetry_spool"] = spool_health(self.telemetry.status())
        return checks

    def ingest_snapshot(self) -> dict[str, Any]:
        """Ingest's counters, plus the telemetry spool's depth when there is one."""
        snapshot = self.stats.snapshot()
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

    def _start_http(self) -> None:
        config = uvicorn.Config(
            self.app,
            host=self.settings.http_host,
            port=self.settings.http_port,
            log_level="warning",
        )
        self._http = uvicorn.Server(config)
        self._http_thread = threading.Thread(target=self._http.run, name="http", daemon=True)
        self._http_thread.start()
        deadline = time.monotonic() + 10
        while not self._http.started and time.monotonic() < deadline:
            time.sleep(0.02)

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.http_host}:{self.settings.http_port}"

    def summary(self) -> dict[str, Any]:
        return {"ingest": self.stats.snapshot(), "tickets_opened": self.pipeline.tickets_opened}
