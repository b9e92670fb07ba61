"""`faultline demo`: embedded broker + simulated fleet + service + API, in one process.

Four days of history play at `--speed`× real time (event time catches up with the wall
clock, then runs live). fridge-0001 loses its compressor and fridge-0002 starts leaking
refrigerant ten minutes into the history, so tickets appear within the first minute.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from device_sim.faults import FaultSpec, write_ground_truth
from device_sim.fleet import build_fridge_fleet
from device_sim.provision import provision
from device_sim.publisher import publish
from device_sim.scenario import readings
from domain import FaultCode, Reading
from faultline.embedded_broker import EmbeddedBroker
from faultline.service import Service, ServiceStartError
from faultline.settings import Settings
from faultline.simulate import DAY
from faultline.sockets import free_port
from fieldservice import tickets
from ingest.broker_address import BrokerAddress

LIVE_DAYS = 30.0


def paced(
    stream: Iterable[Reading], *, first_ts: float, speed: float, stop: threading.Event
) -> Iterator[Reading]:
    """Replays `stream` at `speed`× until event time reaches the wall clock, then live."""
    wall_start = time.time()
    for reading in stream:
        if stop.is_set():
            return
        # Never before its own event time: once history has caught up, it runs live.
        due = max(wall_start + (reading.ts - first_ts) / speed, reading.ts)
        delay = due - time.time()
        if delay > 0 and stop.wait(delay):
            return
        yield reading


MARKER = ".faultline-demo"


class DemoError(RuntimeError):
    """The demo cannot start; the message says what to change."""


def prepare_workdir(workdir: Path) -> None:
    """An empty folder for the demo: new, empty, or one an earlier demo made (emptied).
    A folder with anything else in it is refused, never wiped."""
    if workdir.exists() and not workdir.is_dir():
        raise DemoError(f"--workdir {workdir} is a file, not a folder")
    if workdir.exists() and any(workdir.iterdir()):
        if not (workdir / MARKER).is_file():
            raise DemoError(
                f"--workdir {workdir} is not empty and was not made by `faultline demo`; "
                "choose a new or empty folder (the demo replaces what is in its folder)"
            )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by `faultline demo`; the next demo empties this folder\n")


def run_demo(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return _run_demo(settings, args)
    except (DemoError, ServiceStartError) as exc:
        print(f"faultline demo: {exc}", file=sys.stderr)
        return 2


def _run_demo(settings: Settings, args: argparse.Namespace) -> int:
    workdir: Path = args.workdir
    prepare_workdir(workdir)
    broker = None
    if "mqtt_url" not in settings.model_fields_set:
        broker = EmbeddedBroker(port=free_port())
        broker.start()
    settings = settings.model_copy(
        update={
            "mqtt_url": broker.url if broker else settings.mqtt_url,
            "database_url": f"sqlite:///{workdir / 'faultline.db'}",
            "telemetry_path": str(workdir / "telemetry.db"),
            "mqtt_client_id": "faultline-demo",
            # The embedded broker (amqtt) speaks MQTT 3.1.1 only.
            **({"mqtt_protocol": "3.1.1"} if broker else {}),
        }
    )
    service = Service(settings)
    try:
        service.start()
    except ServiceStartError:
        service.close()
        if broker is not None:
            broker.stop()
        raise
    print(f"Faultline demo: API on {service.base_url}, broker {settings.mqtt_url}")
    if service.token_generated:
        print(f"operator token: {service.settings.admin_token}")
    print(
        f"try: curl -H 'Authorization: Bearer {service.settings.admin_token}' "
        f"{service.base_url}/api/v1/tickets"
    )

    start_ts = time.time() - args.days * DAY
    onset = start_ts + 600
    fleet = build_fridge_fleet(
        count=max(args.devices, 2),
        seed=11,
        start_ts=start_ts,
        faults={
            "fridge-0001": FaultSpec(FaultCode.FRIDGE_COMPRESSOR_FAILURE, onset),
            "fridge-0002": FaultSpec(FaultCode.FRIDGE_TEMP_DRIFT, onset),
        },
    )
    write_ground_truth(workdir / "ground_truth.jsonl", fleet.ground_truth)
    provision(fleet.devices, base_url=service.base_url, token=service.settings.admin_token)
    onsets = {truth.device_id: truth.onset_ts for truth in fleet.ground_truth}

    address = BrokerAddress.parse(settings.mqtt_url)
    stream = readings(fleet, start_ts=start_ts, duration_s=(args.days + LIVE_DAYS) * DAY)
    stop = threading.Event()
    publisher = threading.Thread(
        target=publish,
        args=(paced(stream, first_ts=start_ts, speed=args.speed, stop=stop),),
        kwargs={"host": address.host, "port": address.port, "prefix": settings.mqtt_prefix},
        name="simulator",
        daemon=True,
    )
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    wall_start = time.time()
    publisher.start()
    try:
        _watch(service, onsets, wall_start, stop, args.exit_after)
    finally:
        stop.set()
        publisher.join(30)
        service.stop()
        if broker is not None:
            broker.stop()
    return 0


def _watch(
    service: Service,
    onsets: dict[str, float],
    wall_start: float,
    stop: threading.Event,
    exit_after: float | None,
) -> None:
    seen: set[int] = set()
    last_report = wall_start
    while not stop.wait(1.0):
        now = time.time()
        with service.sessions() as session:
            for row in reversed(tickets.list_page(session=session, limit=50)):
                if row.id in seen:
                    continue
                seen.add(row.id)
                onset = onsets.get(row.device_id)
                delay = f"{(row.detected_at - onset) / 60:.0f} min" if onset else "n/a"
                print(
                    f"[{now - wall_start:5.1f}s] ticket #{row.id} {row.device_id} "
                    f"{row.fault_code}: {row.diagnosis.get('summary', '')} "
                    f"(event-time delay from fault onset to ticket: {delay})"
                )
        if now - last_report >= 10:
            stats = service.stats.snapshot()
            rate = stats["stored"] / (now - wall_start)
            print(
                f"[{now - wall_start:5.1f}s] ingested {stats['stored']} readings ({rate:.0f}/s), "
                f"rejected {stats['rejected_total']}"
            )
            last_report = now
        if exit_after is not None and now - wall_start >= exit_after:
            return
