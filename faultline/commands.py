"""`faultline run`: the service in the foreground until interrupted."""

from __future__ import annotations

import signal
import threading

from faultline.service import Service
from faultline.settings import Settings


def run_service(settings: Settings) -> int:
    service = Service(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    service.start()
    print(f"Faultline API on {service.base_url} (operator token: {service.settings.admin_token})")
    print(f"listening to {settings.mqtt_url}, prefix {settings.mqtt_prefix!r}")
    stop.wait()
    service.stop()
    return 0
