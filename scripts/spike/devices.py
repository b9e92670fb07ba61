"""Spike helper: a backlog of readings published over plain MQTT 3.1.1 QoS 1, as devices do."""

from __future__ import annotations

import json
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def publish_backlog(
    port: int, *, devices: int, readings: int, start_ts: float = 1_764_000_000.0
) -> float:
    """Publish `readings` per device, devices interleaved (as a fleet does); returns msg/s."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"spike-pub-{time.time_ns()}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    began = time.monotonic()
    pending = []
    for seq in range(1, readings + 1):
        for d in range(devices):
            payload = json.dumps(
                {"ts": start_ts + 60 * seq, "seq": seq, "metrics": {"cabinet_temp_c": 4.0}}
            ).encode()
            pending.append(client.publish(f"devices/dev-{d:05d}/telemetry", payload, qos=1))
        if len(pending) > 20_000:
            for info in pending:
                info.wait_for_publish(60)
            pending = []
    for info in pending:
        info.wait_for_publish(60)
    elapsed = time.monotonic() - began
    client.disconnect()
    client.loop_stop()
    return devices * readings / elapsed
