"""Chooses the telemetry store from settings: embedded by default, InfluxDB by URL.

An InfluxDB store is always wrapped in a durable spool, so readings keep being stored
(and acknowledged) while InfluxDB is down; its token, org and bucket are checked here,
at start-up, so a wrong setting stops the service with a message naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from faultline.settings import Settings
from storage.embedded_telemetry import EmbeddedTelemetryStore
from storage.influx_telemetry import InfluxConfigError, InfluxTelemetryStore
from storage.line_protocol import PRECISIONS
from storage.spooled_telemetry import SpooledTelemetryStore
from storage.telemetry import TelemetryError, TelemetryStore

log = logging.getLogger(__name__)

DeviceTypeLookup = Callable[[str], str | None]


def is_influx_url(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def open_telemetry_store(
    settings: Settings, device_type: DeviceTypeLookup = lambda _device_id: None
) -> TelemetryStore:
    """The store `settings.telemetry_url` names; `device_type` tags InfluxDB points."""
    if settings.telemetry_url == "embedded":
        return EmbeddedTelemetryStore(settings.telemetry_path)
    if is_influx_url(settings.telemetry_url):
        return SpooledTelemetryStore(
            open_influx_store(settings, device_type),
            settings.telemetry_spool_dir,
            settings.telemetry_spool_max_bytes,
        )
    raise TelemetryError(
        f"telemetry URL {settings.telemetry_url!r} is not supported: set "
        "FAULTLINE_TELEMETRY_URL to 'embedded' or to InfluxDB's http(s):// address"
    )


def open_history_store(settings: Settings) -> TelemetryStore:
    """The store to read history from (no spool: nothing is written)."""
    if is_influx_url(settings.telemetry_url):
        return open_influx_store(settings, lambda _device_id: None)
    return open_telemetry_store(settings)


def open_influx_store(settings: Settings, device_type: DeviceTypeLookup) -> InfluxTelemetryStore:
    """An InfluxDB store, verified unless unreachable (then the spool holds readings)."""
    if not settings.telemetry_org:
        raise InfluxConfigError(
            f"FAULTLINE_TELEMETRY_ORG is not set: InfluxDB at {settings.telemetry_url} needs "
            "the organization that owns the bucket"
        )
    if settings.telemetry_precision not in PRECISIONS:
        raise InfluxConfigError(
            f"FAULTLINE_TELEMETRY_PRECISION={settings.telemetry_precision!r}: use one of "
            f"{', '.join(PRECISIONS)}"
        )
    store = InfluxTelemetryStore(
        url=settings.telemetry_url,
        org=settings.telemetry_org,
        bucket=settings.telemetry_bucket,
        token=settings.telemetry_token,
        precision=settings.telemetry_precision,
        device_type=device_type,
        timeout_s=settings.telemetry_timeout_s,
        # Fail over to the spool quickly; its replayer retries for as long as it takes.
        max_retries=1,
    )
    try:
        store.verify()
    except InfluxConfigError:
        store.close()
        raise
    except TelemetryError as exc:
        log.warning("%s; starting anyway: readings wait in the spool until it answers", exc)
    return store


def spool_health(status: dict[str, Any]) -> tuple[bool, str]:
    """The /health line of a telemetry spool: failing only when it is (nearly) full."""
    room = status["max_bytes"] - status["bytes"]
    detail = (
        f"{status['readings']} readings waiting ({status['bytes']:,} of "
        f"{status['max_bytes']:,} bytes); {status['replayed']} replayed, "
        f"{status['rejected']} refused by the store"
    )
    if status["oldest_age_s"] is not None:
        detail += f"; oldest spooled {status['oldest_age_s']:.0f}s ago"
    return room > status["max_bytes"] // 20, detail
