"""`faultline bench e2e`: how fast one `faultline run` drains a QoS 1 backlog (validate,
store, detect) against a bare paho subscriber that only counts, same broker, same run.

Both subscribers hold a persistent session on our own Mosquitto and are offline while a
fleet of fridges publishes `--readings` readings, so each finds the same backlog waiting.
The bare subscriber drains first, then the service (HTTP off, embedded stores in a
temporary folder); each is timed from connecting to its last message taken in (the
service: stored). The ratio service / bare is the figure: DESIGN.md measured 0.39.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from device_sim.fleet import Fleet, build_fridge_fleet
from device_sim.mqtt_writer import MqttWriter
from device_sim.scenario import readings
from domain import DeviceInfo
from domain.wire import Channel, encode_reading, subscription_for, topic_for
from faultline.mosquitto_process import MosquittoProcess
from faultline.service import Service
from faultline.settings import Settings
from faultline.sockets import free_port
from storage import devices

GOAL_RATIO = 0.7
BARE_ID = "bench-bare-subscriber"


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, default=1000, help="simulated fridges")
    parser.add_argument("--readings", type=int, default=150_000, help="backlog to drain")
    parser.add_argument("--seed", type=int, default=7, help="simulation seed")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="give up draining after this many seconds"
    )
    parser.add_argument(
        "--mqtt-protocol",
        choices=("5", "3.1.1"),
        default="5",
        help="what ingest speaks (the bare subscriber speaks 3.1.1)",
    )


@dataclass(frozen=True)
class Drain:
    who: str
    messages: int
    seconds: float
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="faultline-bench-e2e-") as tmp:
        work = Path(tmp)
        with MosquittoProcess(work / "broker") as broker:
            settings = Settings(
                mqtt_url=broker.url,
                database_url=f"sqlite:///{work / 'faultline.db'}",
                telemetry_path=str(work / "telemetry.db"),
                admin_token="bench",
                http_port=free_port(),
                fieldservice_enabled=False,
                detection_checkpoint_s=0.0,
                telemetry_raw_days=0.0,
                mqtt_protocol=args.mqtt_protocol,
            )
            fleet = build_fridge_fleet(
                count=args.devices, seed=args.seed, start_ts=1_740_960_000.0, faulty={}
            )
            _prepare_sessions(settings, broker.port, fleet.devices)
            backlog = _publish_backlog(broker.port, fleet, args.readings, settings.mqtt_prefix)
            print(f"backlog: {backlog:,} readings from {args.devices:,} fridges", flush=True)
            bare = _drain_bare(broker.port, backlog, settings.mqtt_prefix, args.timeout)
            print(f"bare paho subscriber: {bare.rate:,.0f} readings/s", flush=True)
            service = _drain_service(settings, backlog, args.timeout)
    ratio = service.rate / bare.rate if bare.rate else 0.0
    verdict = "meets" if ratio >= GOAL_RATIO else "MISSES"
    print(
        f"bare subscriber: {bare.messages:,} in {bare.seconds:.1f} s = {bare.rate:,.0f}/s "
        f"(CPU {bare.cpu_s:.1f} s)\n"
        f"faultline ingest: {service.messages:,} stored in {service.seconds:.1f} s = "
        f"{service.rate:,.0f}/s (CPU {service.cpu_s:.1f} s)\n"
        f"ratio {ratio:.2f} ({verdict} the {GOAL_RATIO} goal); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    return 0 if ratio >= GOAL_RATIO else 1


def _prepare_sessions(settings: Settings, port: int, fleet_devices: Sequence[DeviceInfo]) -> None:
    """Provision the fleet and leave both subscribers' sessions waiting at the broker."""
    service = Service(settings)
    with service.sessions.begin() as session:
        for device in fleet_devices:
            devices.create(session=session, device_in=device)
    service.start(http=False)
    if not service.subscriber.wait_connected(10):
        raise RuntimeError("the service did not connect to the benchmark broker")
    time.sleep(0.5)  # let its SUBSCRIBE reach the broker before it goes away
    service.stop()
    subscribed = threading.Event()
    bare = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=BARE_ID, clean_session=False)
    bare.on_connect = lambda c, *_: c.subscribe(subscription_for(Channel.TELEMETRY), qos=1)
    bare.on_subscribe = lambda *_: subscribed.set()
    bare.connect("127.0.0.1", port)
    bare.loop_start()
    if not subscribed.wait(10):
        raise RuntimeError("the bare subscriber could not subscribe")
    bare.disconnect()
    bare.loop_stop()


def _publish_backlog(port: int, fleet: Fleet[Any], count: int, prefix: str) -> int:
    writer = MqttWriter("127.0.0.1", port, client_id="bench-e2e-publisher", window=20_000)
    writer.connect()
    sent = 0
    try:
        for reading in readings(fleet, start_ts=fleet.start_ts, duration_s=10 * 86_400):
            topic = topic_for(reading.device_id, Channel.TELEMETRY, prefix)
            writer.publish(topic, encode_reading(reading), qos=1)
            sent += 1
            if sent >= count:
                break
        if not writer.wait_acked(120):
            raise RuntimeError("the broker did not acknowledge the backlog")
    finally:
        writer.close()
    return sent


def _drain_bare(port: int, backlog: int, prefix: str, timeout: float) -> Drain:
    got = [0]
    done = threading.Event()

    def on_message(*_: object) -> None:
        got[0] += 1
        if got[0] >= backlog:
            done.set()

    bare = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=BARE_ID, clean_session=False)
    bare.on_message = on_message
    cpu = time.process_time()
    started = time.perf_counter()
    bare.connect("127.0.0.1", port)
    bare.loop_start()
    try:
        if not done.wait(timeout):
            raise RuntimeError(f"the bare subscriber took in only {got[0]:,} of {backlog:,}")
        return Drain("bare", got[0], time.perf_counter() - started, time.process_time() - cpu)
    finally:
        bare.disconnect()
        bare.loop_stop()


def _drain_service(settings: Settings, backlog: int, timeout: float) -> Drain:
    service = Service(settings)
    cpu = time.process_time()
    started = time.perf_counter()
    service.start(http=False)
    try:
        deadline = started + timeout
        while service.stats.stored < backlog:  # the counter itself: a snapshot costs
            if time.perf_counter() > deadline:
                raise RuntimeError(
                    f"faultline stored only {service.stats.snapshot()['stored']:,} of {backlog:,}"
                )
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        return Drain("faultline", backlog, elapsed, time.process_time() - cpu)
    finally:
        service.stop()
