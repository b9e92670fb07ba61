"""Chooses the telemetry store from settings: embedded by default, InfluxDB by URL."""

from __future__ import annotations

from faultline.settings import Settings
from storage.embedded_telemetry import EmbeddedTelemetryStore
from storage.telemetry import TelemetryError, TelemetryStore


def open_telemetry_store(settings: Settings) -> TelemetryStore:
    if settings.telemetry_url == "embedded":
        return EmbeddedTelemetryStore(settings.telemetry_path)
    raise TelemetryError(
        f"telemetry URL {settings.telemetry_url!r} is not supported yet: "
        "set FAULTLINE_TELEMETRY_URL=embedded"
    )
