"""What the API needs from the running service, handed in by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api.identity import DeviceIdentity
from domain.device_models import DeviceModelSpec
from domain.devices import DeviceType
from fieldservice.config import FieldServiceConfig
from storage.telemetry import TelemetryStore


@dataclass(frozen=True)
class ApiContext:
    sessions: sessionmaker[Session]
    telemetry: TelemetryStore
    admin_token: str
    # Liveness of each part (name -> (ok, detail)), and ingest's counters.
    health_checks: Callable[[], dict[str, tuple[bool, str]]]
    ingest_stats: Callable[[], dict[str, Any]]
    on_device_created: Callable[[str, DeviceType, str], None] = lambda _id, _type, _model: None
    fieldservice: FieldServiceConfig = field(default_factory=FieldServiceConfig)
    # The largest request body read, in bytes (FAULTLINE_HTTP_MAX_BODY_BYTES).
    max_body_bytes: int = 1 << 20
    # Devices' broker credentials (None: device identity is off).
    identity: DeviceIdentity | None = None
    # Why a device-model catalog entry cannot apply to its type (None: it can).
    model_spec_error: Callable[[DeviceModelSpec], str | None] = lambda _spec: None
