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
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    admin_token: str = ""
    ingest_batch_size: int = 1000
    ingest_batch_age_s: float = 0.2
    ingest_queue_size: int = 10_000
    ingest_max_future_s: float = 300.0

    def with_token(self) -> Settings:
        """These settings, with a generated operator token if none was configured."""
        if self.admin_token:
            return self
        return self.model_copy(update={"admin_token": secrets.token_urlsafe(24)})
