"""Faultline's settings: one class, read once at start-up from flags and FAULTLINE_* variables.

Every field has a description: `faultline settings` prints them all (with the variable
that sets each and its default), and the README's configuration table is checked against
them by a test, so no setting goes undocumented.
"""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.dead_letters import Retention


class Settings(BaseSettings):
    """Every knob of the service (DESIGN.md, "Command line and configuration")."""

    model_config = SettingsConfigDict(env_prefix="FAULTLINE_", extra="ignore")

    # -- broker -------------------------------------------------------------------------
    mqtt_url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="MQTT broker, mqtt://[user:pass@]host:port (mqtts:// for TLS)",
    )
    mqtt_prefix: str = Field(default="devices", description="first level of every topic")
    mqtt_client_id: str = Field(
        default="faultline-ingest",
        description="ingest's MQTT client id: its persistent session and its checkpoint",
    )
    mqtt_protocol: str = Field(
        default="5",
        pattern=r"^(5|3\.1\.1)$",
        description="MQTT version ingest speaks: 5 (asks for 10,000 messages in flight) or "
        "3.1.1 for brokers without 5",
    )
    mqtt_admin_url: str = Field(
        default="",
        description="the broker's dynamic-security administrator, mqtt://admin:pass@host:port: "
        "turns device identity on (each device its own credentials); empty: off",
    )
    mqtt_ca_file: str = Field(
        default="", description="CA certificates to trust for mqtts:// (empty: the system's)"
    )
    # -- stores -------------------------------------------------------------------------
    database_url: str = Field(
        default="sqlite:///./faultline.db",
        description="SQLAlchemy URL of the relational store (SQLite file or postgresql://)",
    )
    telemetry_url: str = Field(
        default="embedded",
        description="telemetry history: 'embedded' (a SQLite file) or an InfluxDB http(s) URL",
    )
    telemetry_path: str = Field(
        default="./faultline-telemetry.db", description="the embedded telemetry store's file"
    )
    telemetry_org: str = Field(default="", description="InfluxDB organisation")
    telemetry_bucket: str = Field(default="telemetry", description="InfluxDB bucket")
    telemetry_token: str = Field(default="", description="InfluxDB API token")
    telemetry_precision: str = Field(
        default="ns", description="InfluxDB write precision: ns or s"
    )
    telemetry_timeout_s: float = Field(default=5.0, description="InfluxDB request timeout")
    telemetry_spool_dir: str = Field(
        default="./faultline-spool",
        description="where readings wait while InfluxDB is away (fsynced, replayed in order)",
    )
    telemetry_spool_max_bytes: int = Field(
        default=1 << 30, description="spool size limit; a full spool pauses ingest"
    )
    telemetry_raw_days: float = Field(
        default=30.0,
        description="embedded store: days of raw readings kept (event time); older become "
        "hourly min/mean/max; 0 keeps everything raw",
    )
    telemetry_compact_every_s: float = Field(
        default=3600.0,
        description="seconds between retention runs (telemetry compaction, dead letters)",
    )
    # Dead letters (rejected messages) keep the first 4 KiB of a payload, its size and hash.
    dead_letter_max_age_days: float = Field(
        default=30.0, gt=0, description="dead letters received longer ago than this are deleted"
    )
    dead_letter_max_count: int = Field(
        default=100_000, ge=1, description="only the newest this many dead letters are kept"
    )
    # -- detection ----------------------------------------------------------------------
    fleet_model: str = Field(
        default="",
        description="fleet model file from `faultline model train` (empty: no "
        "UNCLASSIFIED_ANOMALY); a joblib pickle: load only files you made or trust",
    )
    detection_checkpoint_s: float = Field(
        default=30.0, description="seconds between detection checkpoints; 0: only at stop"
    )
    # -- HTTP ---------------------------------------------------------------------------
    http_host: str = Field(default="127.0.0.1", description="API address")
    http_port: int = Field(default=8000, description="API port")
    http_max_body_bytes: int = Field(
        default=1 << 20,
        gt=0,
        description="largest HTTP request body read, in bytes; larger ones get 413 unread",
    )
    admin_token: str = Field(
        default="",
        description="operator bearer token; generated and printed at start when empty",
    )
    public_url: str = Field(
        default="",
        description="the URL people reach Faultline at, for links in messages "
        "(default http://HTTP_HOST:HTTP_PORT)",
    )
    # -- ingest -------------------------------------------------------------------------
    ingest_batch_size: int = Field(default=1000, description="messages stored per batch")
    ingest_batch_age_s: float = Field(
        default=0.2, description="longest a message waits for its batch to fill"
    )
    ingest_queue_size: int = Field(
        default=10_000,
        description="messages received and not yet stored, at most (then the broker holds them)",
    )
    ingest_max_future_s: float = Field(
        default=300.0, description="how far ahead of the wall clock a reading's ts may be"
    )
    # -- scale-out (partitioned workers) -----------------------------------------------
    scale_backend: str = Field(
        default="",
        description="empty: one process reads the MQTT broker (the default); 'nats': "
        "partitioned workers on NATS JetStream (devices publish MQTT to nats-server, see "
        "deploy/nats-server.conf)",
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4222", description="NATS server of the partitioned mode"
    )
    partitions: int = Field(
        default=16,
        description="device partitions; must match the partition(N,1) mapping in the "
        "nats-server configuration",
    )
    partition_lease_s: float = Field(
        default=10.0,
        description="a worker that stops renewing its partitions loses them after this long",
    )
    worker_id: str = Field(
        default="", description="this worker's name in partition leases (default host-pid)"
    )
    scale_retention_s: float = Field(
        default=7 * 86_400.0,
        description="how long the JetStream stream keeps readings (a partition left unowned "
        "longer than this loses what is older)",
    )
    # -- health -------------------------------------------------------------------------
    health_max_pending_s: float = Field(
        default=60.0, description="/health: a batch waiting this long to be stored is 'stuck'"
    )
    health_max_lag_s: float = Field(
        default=300.0, description="/health: readings arriving this far behind publication"
    )
    health_max_loss_rate: float = Field(
        default=0.05, description="/health: share of readings lost upstream in the last minute"
    )
    health_max_outbox_overdue_s: float = Field(
        default=600.0, description="/health: a notification due this long means it is stuck"
    )
    # -- notifications ------------------------------------------------------------------
    smtp_host: str = Field(default="", description="SMTP server for e-mail; empty: no e-mail")
    smtp_port: int = Field(default=25, description="SMTP port")
    smtp_from: str = Field(
        default="Faultline <service@faultline.invalid>", description="From: of every e-mail"
    )
    smtp_username: str = Field(default="", description="SMTP login (empty: none)")
    smtp_password: str = Field(default="", description="SMTP password")
    smtp_starttls: bool = Field(default=False, description="upgrade SMTP with STARTTLS")
    smtp_timeout_s: float = Field(default=30.0, description="SMTP timeout")
    webhook_url: str = Field(
        default="", description="integration webhook for desk notices and alerts (empty: none)"
    )
    webhook_secret: str = Field(
        default="", description="HMAC-SHA256 key signing webhook bodies (X-Faultline-Signature)"
    )
    desk_email: str = Field(default="", description="the service desk's e-mail address")
    customer_topic_prefix: str = Field(
        default="", description="MQTT downlink topic prefix for customer apps (empty: none)"
    )
    notify_interval_s: float = Field(default=1.0, description="outbox polling interval")
    notify_lease_s: float = Field(
        default=60.0, description="a message being sent is someone else's for this long"
    )
    notify_max_attempts: int = Field(default=8, description="delivery attempts before 'dead'")
    notify_backoff_s: float = Field(default=2.0, description="first retry delay (doubles)")
    # -- field service ------------------------------------------------------------------
    sla_targets: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description='per tier, e.g. {"vip": {"respond_min": 15, "resolve_min": 120}}',
    )
    sla_at_risk_fraction: float = Field(
        default=0.25, description="a ticket is at risk with this share of its SLA left"
    )
    reopen_window_days: float = Field(
        default=14.0, description="a fault recurring within this reopens the closed ticket"
    )
    closure_quiet_s: float = Field(
        default=86400.0,
        description="after a repair, event time the fault's clear condition must hold",
    )
    closure_verify_s: float = Field(
        default=172800.0,
        gt=0,
        description="a repaired fault still showing this long after the repair reopens it",
    )
    follow_up_delay_s: float = Field(
        default=86400.0, description="after closure, when the customer is asked to rate"
    )
    household_hold_s: float = Field(
        default=120.0, description="faults of one household within this share one visit"
    )
    warranty_years: int = Field(default=2, description="years from install under warranty")
    dispatch_speed_kmh: float = Field(default=30.0, description="technicians' travel speed")
    sign_in_link_days: float = Field(
        default=14.0, gt=0, description="days a sign-in link (in a work order or alert) works"
    )
    cohort_fdr: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="false-discovery rate of the cohort surveillance flag (Benjamini-Hochberg)",
    )
    cohort_every_s: float = Field(
        default=300.0, description="seconds between cohort fault-rate checks"
    )
    fieldservice_enabled: bool = Field(
        default=True, description="run dispatch, SLAs and notifications in this process"
    )
    fieldservice_interval_s: float = Field(
        default=10.0, description="seconds between dispatch/SLA rounds"
    )

    def dead_letter_retention(self) -> Retention:
        return Retention(
            max_age_s=self.dead_letter_max_age_days * 86_400.0,
            max_count=self.dead_letter_max_count,
        )

    def with_token(self) -> Settings:
        """These settings, with a generated operator token if none was configured."""
        if self.admin_token:
            return self
        return self.model_copy(update={"admin_token": secrets.token_urlsafe(24)})


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "" if default in ("", None) else str(default)
        rows.append((f"FAULTLINE_{name.upper()}", shown, field.description or ""))
    return rows
