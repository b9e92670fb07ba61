"""The broker configuration Faultline ships (deploy/mosquitto.conf) keeps what a stopped
ingest has not taken yet, where Mosquitto's defaults drop all but 1000 messages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ingest.broker_address import BrokerAddress
from ingest.broker_identity import DynamicSecurity
from ingest.inbox import Inbox
from ingest.messages import RawMessage
from ingest.stats import IngestStats
from ingest.subscriber import Subscriber
from tests.mosquitto import ADMIN_PASSWORD, Mosquitto
from tests.service_harness import Device, reading_message, wait_until

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto.conf"
MESSAGES = 5000


def use_shipped_config(broker: Mosquitto, workdir: Path) -> None:
    """deploy/mosquitto.conf as shipped (dynamic security and all), moved to the test's
    port and folders, initialised as its comments say."""
    ctrl = shutil.which("mosquitto_ctrl") or "/usr/bin/mosquitto_ctrl"
    state = workdir / "dynamic-security.json"
    state.unlink(missing_ok=True)
    subprocess.run(
        [ctrl, "dynsec", "init", str(state), "admin", ADMIN_PASSWORD],
        check=True,
        capture_output=True,
    )
    plugin = next(iter(sorted(Path("/usr/lib").glob("*/mosquitto_dynamic_security.so"))))
    text = DEPLOY.read_text()
    text = re.sub(r"(?m)^listener 1883$", f"listener {broker.port} 127.0.0.1", text)
    text = re.sub(r"(?m)^persistence_location .*$", f"persistence_location {workdir}/", text)
    text = re.sub(r"(?m)^plugin .*$", f"plugin {plugin}", text)
    text = re.sub(r"(?m)^plugin_opt_config_file .*$", f"plugin_opt_config_file {state}", text)
    if os.geteuid() == 0:
        text += "\nuser root\n"
    broker.config.write_text(text)


def provision_identities(broker: Mosquitto) -> str:
    """Faultline's ingest user and one device, as Faultline sets them up; the device's
    secret."""
    admin = DynamicSecurity(BrokerAddress.parse(broker.url_as("admin", ADMIN_PASSWORD)))
    admin.start()
    try:
        admin.ensure_service("ingest", "secret")
        return admin.provision(["fridge-1"])["fridge-1"]
    finally:
        admin.stop()


def reaching_a_stopped_ingest(broker: Mosquitto, credentials: dict[str, str]) -> int:
    """Ingest subscribes and stops; a fleet publishes MESSAGES; ingest comes back. How many
    reach it? (A last marker, published once it is back, shows the queue was drained:
    a session's messages arrive in order.)"""
    inbox: Inbox[RawMessage] = Inbox(maxsize=100_000)
    stats = IngestStats()
    user = f"{credentials['ingest']}:secret@" if credentials else ""
    address = BrokerAddress.parse(f"mqtt://{user}127.0.0.1:{broker.port}")

    def subscriber() -> Subscriber:
        return Subscriber(
            address=address,
            client_id="faultline-ingest",
            topics=["devices/+/telemetry"],
            inbox=inbox,
            stats=stats,
        )

    first = subscriber()
    first.start()
    wait_until(lambda: stats.connected, 10, "ingest subscribed")
    first.stop()
    device = Device(
        broker,
        "fridge-1",
        **({"username": "fridge-1", "password": credentials["device"]} if credentials else {}),
    )
    again = subscriber()
    try:
        device.publish_many(
            reading_message("fridge-1", s, 1.75e9 + s) for s in range(1, MESSAGES + 1)
        )
        again.start()
        wait_until(lambda: stats.connected, 10, "ingest back")
        device.publish_many([reading_message("fridge-1", MESSAGES + 1, 1.75e9 + MESSAGES + 1)])
        received: list[RawMessage] = []

        def marker_arrived() -> bool:
            received.extend(inbox.take(100_000, wait_s=0.0, gather_s=0.0))
            return any(
                m.payload == reading_message("fridge-1", MESSAGES + 1, 1.75e9 + MESSAGES + 1)[1]
                for m in received
            )

        wait_until(marker_arrived, 30, "the marker published after ingest came back")
        return len(received) - 1
    finally:
        again.stop()
        device.close()


def test_the_shipped_broker_config_keeps_every_message_for_a_stopped_ingest(
    tmp_path: Path,
) -> None:
    broker = Mosquitto(tmp_path / "shipped")
    use_shipped_config(broker, tmp_path / "shipped")
    broker.start()
    try:
        secret = provision_identities(broker)
        assert reaching_a_stopped_ingest(broker, {"ingest": "ingest", "device": secret}) == MESSAGES
    finally:
        broker.stop()


def test_mosquitto_defaults_drop_what_passes_1000_for_a_stopped_ingest(
    stock_mosquitto: Mosquitto,
) -> None:
    assert reaching_a_stopped_ingest(stock_mosquitto, {}) <= 1000
