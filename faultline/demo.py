"""`faultline demo`: embedded broker + simulated fleet + service + API, in one process.

Four days of history play at `--speed`× real time (event time catches up with the wall
clock, then runs live). fridge-0001 loses its compressor and fridge-0002 starts leaking
refrigerant two hours into the history, so tickets appear within the first minute.
Technicians and customer contacts are seeded, so the whole loop runs: dispatch, alerts, a
simulated crew moving the jobs along (the repaired fridge then reports healthy readings),
telemetry-verified closure and the follow-up. It prints a sign-in link per role.
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

import httpx

from device_sim.faults import FaultSpec, write_ground_truth
from device_sim.fleet import build_fridge_fleet
from device_sim.provision import provision
from device_sim.publisher import publish
from device_sim.scenario import readings
from domain import DeviceInfo, FaultCode, Reading
from faultline import demo_people
from faultline.demo_crew import SimulatedCrew
from faultline.embedded_broker import EmbeddedBroker
from faultline.service import Service, ServiceStartError
from faultline.settings import Settings
from faultline.simulate import DAY
from faultline.sockets import free_port
from fieldservice import tickets
from ingest.broker_address import BrokerAddress

LIVE_DAYS = 30.0
# The loop runs in minutes: quick field-service rounds, a short telemetry check after a
# repair (event time, so seconds at the history's speed), a prompt follow-up.
DEMO_FIELD_SERVICE = {
    "fieldservice_interval_s": 2.0,
    "notify_interval_s": 0.5,
    "closure_quiet_s": 2 * 3600.0,
    "follow_up_delay_s": 30.0,
    "cohort_every_s": 30.0,
}


class Repairs:
    """Devices the crew repaired: from then on the simulator sends their healthy twin's
    readings (same unit, same clock and seq, no fault), as a fixed appliance would."""

    def __init__(self) -> None:
        self._devices: set[str] = set()

    def add(self, device_id: str) -> None:
        self._devices.add(device_id)

    def merge(self, faulty: Iterable[Reading], healthy: Iterable[Reading]) -> Iterator[Reading]:
        for broken, fine in zip(faulty, healthy, strict=True):
            yield fine if broken.device_id in self._devices else broken


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
    quick = {k: v for k, v in DEMO_FIELD_SERVICE.items() if k not in settings.model_fields_set}
    settings = settings.model_copy(
        update={
            "mqtt_url": broker.url if broker else settings.mqtt_url,
            "database_url": f"sqlite:///{workdir / 'faultline.db'}",
            "telemetry_path": str(workdir / "telemetry.db"),
            "mqtt_client_id": "faultline-demo",
            # The embedded broker (amqtt) speaks MQTT 3.1.1 only.
            **({"mqtt_protocol": "3.1.1"} if broker else {}),
            **quick,
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
    shown = service.settings.admin_token if service.token_generated else "$FAULTLINE_ADMIN_TOKEN"
    print(f"try: curl -H 'Authorization: Bearer {shown}' {service.base_url}/api/v1/tickets")

    start_ts = time.time() - args.days * DAY
    # Two hours of normal first (the evidence charts show the band the fault left), yet
    # tickets still appear within the first minute at the default speed.
    onset = start_ts + 2 * 3600
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
    crew = _seed_and_sign_in(service, fleet.devices, fleet.device("fridge-0001"), args)
    repairs = Repairs()
    if crew is not None:
        crew.on_resolved = repairs.add

    address = BrokerAddress.parse(settings.mqtt_url)
    duration = (args.days + LIVE_DAYS) * DAY
    healthy = build_fridge_fleet(count=max(args.devices, 2), seed=11, start_ts=start_ts)
    stream = repairs.merge(
        readings(fleet, start_ts=start_ts, duration_s=duration),
        readings(healthy, start_ts=start_ts, duration_s=duration),
    )
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
    if crew is not None:
        crew.start()
    try:
        _watch(service, onsets, wall_start, stop, args.exit_after)
    finally:
        stop.set()
        if crew is not None:
            crew.stop()
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


def _seed_and_sign_in(
    service: Service, devices: list[DeviceInfo], first: DeviceInfo, args: argparse.Namespace
) -> SimulatedCrew | None:
    """Seed technicians and customers, print one sign-in line per role, and return the
    simulated crew (None with `--crew-pace 0`: the technicians are all yours)."""
    with httpx.Client(
        base_url=service.base_url,
        headers={"Authorization": f"Bearer {service.settings.admin_token}"},
        timeout=10,
    ) as client:
        people = demo_people.seed(client, devices, first)
        technician = people.technicians[0]
        lines = [
            ("console", demo_people.sign_in_link(client, "operator", "operator", "/")),
            (
                f"technician {technician}",
                demo_people.sign_in_link(client, "technician", technician, "/tech"),
            ),
            (
                f"customer {first.customer_id}",
                demo_people.sign_in_link(client, "customer", first.customer_id, "/my"),
            ),
        ]
    print("sign in (each link works for a day):")
    for who, url in lines:
        print(f"{who}: {url}")
    print(f"API docs: {service.base_url}/docs", flush=True)
    pace = getattr(args, "crew_pace", 20.0)
    if not pace:
        return None
    return SimulatedCrew(base_url=service.base_url, tokens=people.technician_tokens, pace_s=pace)
