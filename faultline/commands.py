"""`faultline run`: the service in the foreground until interrupted."""

from __future__ import annotations

import signal
import sys
import threading

from faultline.fleet_model_file import FleetModelFileError
from faultline.partitioned_service import make_service
from faultline.service import ServiceStartError
from faultline.settings import Settings
from ingest.broker_address import BrokerAddress
from ingest.errors import IngestError
from storage.telemetry import TelemetryError

# What a start can fail on, each with a message that names what to fix.
START_ERRORS = (ServiceStartError, FleetModelFileError, TelemetryError, IngestError)


def run_service(settings: Settings) -> int:
    try:
        service = make_service(settings)
    except START_ERRORS as exc:
        print(f"faultline run: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        service.start()
    except ServiceStartError as exc:
        print(f"faultline run: {exc}", file=sys.stderr)
        service.close()
        return 2
    print(f"Faultline API on {service.base_url}")
    if service.token_generated:
        print(
            f"operator token (generated; set FAULTLINE_ADMIN_TOKEN to choose one): "
            f"{service.settings.admin_token}"
        )
    if settings.scale_backend:
        print(f"partitioned worker on {settings.scale_backend} {settings.nats_url}")
    else:
        print(
            f"listening to {BrokerAddress.parse(settings.mqtt_url)}, "
            f"prefix {settings.mqtt_prefix!r}"
        )
    print(
        f"console: {service.base_url}/ (sign in with the operator token); "
        f"technicians and customers sign in from the links in their messages; "
        f"API docs: {service.base_url}/docs",
        flush=True,
    )
    stop.wait()
    service.stop()
    return 0
