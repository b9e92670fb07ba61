"""Faultline's settings: one class, read once at start-up from flags and FAULTLINE_* variables."""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service (DESIGN.md, "Command line and configuration")."""

    model_config = SettingsConfigDict(env_prefix="FAULTLINE_", extra="ignore")

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_prefix: str = "devices"
    mqtt_client_id: str = "faultline-ingest"
    database_url: str = "sqlite:///./faultline.db"
    telemetry_url: str = Field(
        default="embedded",
        description="'embedded' (a SQLite file beside the database) or an InfluxDB URL",
    )
    telemetry_path: str = "./faultline-telemetry.db"
    # InfluxDB (telemetry_url http(s)://…): where, and how points are written.
    telemetry_org: str = ""
    telemetry_bucket: str = "telemetry"
    telemetry_token: str = ""
    telemetry_precision: str = "ns"
    telemetry_timeout_s: float = 5.0
    # While InfluxDB is away, readings wait here (bounded); a full spool pauses ingest.
    telemetry_spool_dir: str = "./faultline-spool"
    telemetry_spool_max_bytes: int = 1 << 30
    # Embedded store: raw readings for this many days (event time), hourly after.
    telemetry_raw_days: float = 30.0
    telemetry_compact_every_s: float = 3600.0
    # Detection: the fleet model file (`faultline model train`; empty: no
    # UNCLASSIFIED_ANOMALY) and how often the engine's state is checkpointed to the database.
    fleet_model: str = ""
    detection_checkpoint_s: float = Field(
        default=30.0, description="seconds between detection checkpoints; 0: only at stop"
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    admin_token: str = ""
    ingest_batch_size: int = 1000
    ingest_batch_age_s: float = 0.2
    ingest_queue_size: int = 10_000
    ingest_max_future_s: float = 300.0
    # Field service: notification channels, rules, loop intervals.
    smtp_host: str = Field(default="", description="SMTP server for e-mail; empty: no e-mail")
    smtp_port: int = 25
    smtp_from: str = "Faultline <service@faultline.invalid>"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_s: float = 30.0
    webhook_url: str = Field(default="", description="integration webhook: desk + alerts")
    webhook_secret: str = Field(default="", description="HMAC-SHA256 key for webhooks")
    desk_email: str = ""
    customer_topic_prefix: str = ""
    public_url: str = ""
    sla_targets: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description='per tier, e.g. {"vip": {"respond_min": 15, "resolve_min": 120}}',
    )
    sla_at_risk_fraction: float = 0.25
    reopen_window_days: float = 14.0
    closure_quiet_s: float = Field(default=86400.0, description="event time normal after repair")
    follow_up_delay_s: float = 86400.0
    household_hold_s: float = 120.0
    warranty_years: int = 2
    dispatch_speed_kmh: float = 30.0
    sign_in_link_days: float = Field(default=14.0, gt=0, description="sign-in links expire")
    cohort_fdr: float = Field(default=0.05, gt=0, lt=1, description="cohort flag FDR")
    cohort_every_s: float = 300.0
    fieldservice_enabled: bool = True
    fieldservice_interval_s: float = 10.0
    notify_interval_s: float = 1.0
    notify_lease_s: float = 60.0
    notify_max_attempts: int = 8
    notify_backoff_s: float = 2.0

    def with_token(self) -> Settings:
        """These settings, with a generated operator token if none was configured."""
        if self.admin_token:
            return self
        return self.model_copy(update={"admin_token": secrets.token_urlsafe(24)})
