"""Devices speak plain MQTT to nats-server; the mapping puts each device, all its uplink
channels, in one partition in order; commands still reach devices; a partition can be
read again from any position."""

from __future__ import annotations

import json
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from faultline.nats_process import NatsServerProcess
from ingest.messages import RawMessage
from ingest.nats_link import NatsLink
from ingest.partition_log import PartitionLog
from tests.service_harness import wait_until


@pytest.fixture
def partition_log(nats_server: NatsServerProcess) -> Iterator[PartitionLog]:
    link = NatsLink(nats_server.url, name="test")
    link.start()
    log = PartitionLog(link, prefix="devices", partitions=16)
    log.ensure_stream()
    yield log
    link.stop()


def _mqtt(server: NatsServerProcess, client_id: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect("127.0.0.1", server.mqtt_port)
    client.loop_start()
    return client


def _drain(log: PartitionLog, expected: int) -> dict[int, list[RawMessage]]:
    got: dict[int, list[RawMessage]] = {}

    def more() -> bool:
        for partition, raws in log.fetch(100, 0.2).items():
            got.setdefault(partition, []).extend(raws)
            log.ack(partition)
        return sum(map(len, got.values())) >= expected

    wait_until(more, 20, f"{expected} messages in the partitions")
    return got


def test_a_device_lands_in_one_partition_in_order_across_its_channels(
    nats_server: NatsServerProcess, partition_log: PartitionLog
) -> None:
    for partition in range(16):
        partition_log.open(partition, after=0)
    device = _mqtt(nats_server, "devices")
    sent = []
    for n in range(1, 41):
        for d in range(6):
            topic = f"devices/fridge-{d:04d}/" + ("events" if n % 10 == 0 else "telemetry")
            sent.append(topic)
            device.publish(topic, json.dumps({"seq": n}).encode(), qos=1).wait_for_publish(5)
    device.publish("devices/fridge-0000/status", b"online", qos=1).wait_for_publish(5)
    got = _drain(partition_log, len(sent) + 1)
    where: dict[str, set[int]] = {}
    for partition, raws in got.items():
        for raw in raws:
            where.setdefault(raw.topic.split("/")[1], set()).add(partition)
    assert all(len(p) == 1 for p in where.values()), f"a device split over partitions: {where}"
    assert len(set().union(*where.values())) > 1, "six devices should spread over partitions"
    for raws in got.values():
        for device_id in {raw.topic.split("/")[1] for raw in raws}:
            seqs = [
                json.loads(r.payload)["seq"]
                for r in raws
                if r.topic.startswith(f"devices/{device_id}/") and not r.topic.endswith("status")
            ]
            assert seqs == list(range(1, 41)), f"{device_id} out of order"
    topics = {raw.topic for raws in got.values() for raw in raws}
    assert "devices/fridge-0000/status" in topics and "devices/fridge-0003/events" in topics
    device.disconnect()


def test_commands_to_a_device_are_not_partitioned_and_reach_it_over_mqtt(
    nats_server: NatsServerProcess, partition_log: PartitionLog
) -> None:
    received: list[bytes] = []
    device = _mqtt(nats_server, "fridge-0001")
    device.on_message = lambda _c, _u, msg: received.append(bytes(msg.payload))
    device.subscribe("devices/fridge-0001/commands", qos=1)
    service = _mqtt(nats_server, "service")

    def sent_and_received() -> bool:
        service.publish("devices/fridge-0001/commands", b'{"command": "x"}', qos=1)
        return bool(received)

    wait_until(sent_and_received, 10, "the command to reach the device")
    assert partition_log.first_sequence() <= 1
    for partition in range(16):
        partition_log.open(partition, after=0)
    assert partition_log.fetch(10, 0.3) == {}, "commands must not enter the stream"
    device.disconnect()
    service.disconnect()


def test_a_partition_is_read_again_from_the_position_after_a_given_sequence(
    nats_server: NatsServerProcess, partition_log: PartitionLog
) -> None:
    device = _mqtt(nats_server, "devices")
    for n in range(1, 21):
        device.publish(
            "devices/fridge-0001/telemetry", json.dumps({"seq": n}).encode(), qos=1
        ).wait_for_publish(5)
    for partition in range(16):
        partition_log.open(partition, after=0)
    ((partition, first),) = _drain(partition_log, 20).items()
    position = first[9].mid  # the stream sequence of the 10th reading
    partition_log.open(partition, after=position)
    again = _drain(partition_log, 10)[partition]
    assert [json.loads(r.payload)["seq"] for r in again] == list(range(11, 21))
    device.disconnect()
