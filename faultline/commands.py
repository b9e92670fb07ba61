"""`faultline run`: the service in the foreground until interrupted."""

from __future__ import annotations

import signal
import sys
import threading

from faultline.fleet_model_file import FleetModelFileError
from faultline.service import Service
from faultline.settings import Settings


def run_service(settings: Settings) -> int:
    try:
        service = Service(settings)
    except FleetModelFileError as exc:
        print(f"faultline run: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    service.start()
    print(f"Faultline API on {service.base_url} (operator token: {service.settings.admin_token})")
    print(f"listening to {settings.mqtt_url}, prefix {settings.mqtt_prefix!r}")
    print(
        f"console: {service.base_url}/ (sign in with the operator token); "
        f"technicians and customers sign in from the links in their messages; "
        f"API docs: {service.base_url}/docs",
        flush=True,
    )
    stop.wait()
    service.stop()
    return 0
