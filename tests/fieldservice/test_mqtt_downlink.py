"""MQTT downlink: a customer alert for the appliance's display reaches `{prefix}/{id}/commands`
on a real Mosquitto, acknowledged (QoS 1), carrying its idempotency key."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from domain import Anomaly
from fieldservice import customers, flows
from fieldservice.config import FieldServiceConfig
from fieldservice.notifications.delivery import Deliverer
from fieldservice.notifications.mqtt_downlink import MqttDownlinkChannel
from tests.fieldservice.conftest import FRIDGE
from tests.mosquitto import Mosquitto
from tests.service_harness import wait_until


def test_customer_alert_is_shown_on_the_appliance_over_mqtt(
    mosquitto: Mosquitto, session_factory: sessionmaker[Session], anomaly: Callable[..., Anomaly]
) -> None:
    received: list[dict[str, Any]] = []
    subscribed = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="appliance")
    listener.on_connect = lambda client, *_: client.subscribe(f"devices/{FRIDGE}/commands", qos=1)
    listener.on_subscribe = lambda *_: subscribed.set()
    listener.on_message = lambda _c, _u, message: received.append(json.loads(message.payload))
    listener.connect("127.0.0.1", mosquitto.port)
    listener.loop_start()
    channel = MqttDownlinkChannel(
        host="127.0.0.1", port=mosquitto.port, client_id="faultline-downlink"
    )
    try:
        assert subscribed.wait(10)
        with session_factory.begin() as session:
            customers.upsert(
                session=session,
                customer_in=customers.CustomerIn("c-17", language="zh", channels=("mqtt",)),
                now=time.time(),
            )
            flows.handle_anomaly(
                session=session, anomaly=anomaly(), now=time.time(), config=FieldServiceConfig()
            )
        deliverer = Deliverer(sessions=session_factory, channels={"mqtt": channel}, worker_id="w-1")
        assert deliverer.run_once() == 1 and deliverer.stats.sent == 1
        wait_until(lambda: bool(received), 10, "the alert on the commands topic")
        [alert] = received
        assert alert["command"] == "show_alert" and alert["kind"] == "fault_alert"
        assert alert["idempotency_key"] == "t1/r1/fault_alert/mqtt"
        assert alert["title"] == "您的冰箱需要检修"
    finally:
        channel.close()
        listener.loop_stop()
        listener.disconnect()
