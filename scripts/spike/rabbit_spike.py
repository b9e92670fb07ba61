"""Spike: RabbitMQ (MQTT plugin → amq.topic → consistent-hash exchange → N quorum queues with
single active consumer) as the partitioned queue behind Faultline (issue 13).

The MQTT plugin publishes `devices/dev-1/telemetry` to amq.topic with the routing key
`devices.dev-1.telemetry`; the consistent-hash exchange hashes the whole routing key.

    .venv/bin/python -m scripts.spike.rabbit_spike --devices 1000 --readings 100
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import tempfile
import time
from pathlib import Path

import msgspec
import pika

from scripts.spike.devices import publish_backlog
from scripts.spike.rabbit_process import RabbitNode

EXCHANGE = "faultline.partitions"


class _Reading(msgspec.Struct):
    ts: float
    seq: int
    metrics: dict[str, float]


def _setup(port: int, partitions: int) -> None:
    conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", port))
    ch = conn.channel()
    ch.exchange_declare(EXCHANGE, "x-consistent-hash", durable=True)
    ch.exchange_bind(destination=EXCHANGE, source="amq.topic", routing_key="devices.*.*")
    for p in range(partitions):
        name = f"part-{p:02d}"
        ch.queue_declare(
            name,
            durable=True,
            arguments={"x-queue-type": "quorum", "x-single-active-consumer": True},
        )
        ch.queue_bind(name, EXCHANGE, routing_key="1")  # weight 1
    conn.close()


def _drain(
    port: int, partitions: int, expected: int, *, prefetch: int, seen_file: str | None = None
) -> tuple[int, float, int]:
    conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", port))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=prefetch)
    decoder = msgspec.json.Decoder(_Reading)
    last: dict[str, int] = {}
    state = {"count": 0, "bad": 0, "since_ack": 0}
    # Line-buffered: what was processed before a SIGKILL is on disk, acked or not.
    out = open(seen_file, "a", buffering=1) if seen_file else None  # noqa: SIM115

    def on_message(channel, method, _props, body):  # type: ignore[no-untyped-def]
        device = method.routing_key.split(".")[1]
        reading = decoder.decode(body)
        if reading.seq <= last.get(device, 0):
            state["bad"] += 1
        last[device] = reading.seq
        if out is not None:
            out.write(f"{device} {reading.seq}\n")
        state["count"] += 1
        state["since_ack"] += 1
        if state["since_ack"] >= prefetch // 2:
            if out is not None:
                out.flush()
            channel.basic_ack(method.delivery_tag, multiple=True)
            state["since_ack"] = 0

    for p in range(partitions):
        ch.basic_consume(f"part-{p:02d}", on_message)
    began = time.monotonic()
    idle = 0
    while state["count"] < expected and idle < 10:
        before = state["count"]
        conn.process_data_events(time_limit=0.2)
        idle = idle + 1 if state["count"] == before else 0
    elapsed = time.monotonic() - began
    if out is not None:
        out.close()
    conn.close()
    return state["count"], elapsed, state["bad"]


def _killable(port: int, partitions: int, seen_file: str) -> None:
    _drain(port, partitions, 10**9, prefetch=1000, seen_file=seen_file)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--readings", type=int, default=100)
    parser.add_argument("--partitions", type=int, default=16)
    args = parser.parse_args()
    total = args.devices * args.readings
    with tempfile.TemporaryDirectory() as tmp:
        node = RabbitNode(Path(tmp))
        try:
            node.start()
            print(f"rabbitmq listening (AMQP and MQTT) after {node.started_in_s:.2f}s")
            began = time.monotonic()
            _setup(node.port, args.partitions)
            print(f"exchange + {args.partitions} quorum queues in {time.monotonic() - began:.2f}s")
            rate = publish_backlog(node.mqtt_port, devices=args.devices, readings=args.readings)
            print(f"MQTT QoS 1 publish: {rate:,.0f} msg/s ({total:,} messages)")
            count, secs, bad = _drain(node.port, args.partitions, total, prefetch=1000)
            print(f"drain 1 process, {args.partitions} queues: {count:,} in {secs:.2f}s = "
                  f"{count / secs:,.0f}/s; order violations {bad}")
            rate = publish_backlog(node.mqtt_port, devices=args.devices, readings=args.readings)
            seen = Path(tmp) / "seen.txt"
            proc = multiprocessing.Process(
                target=_killable, args=(node.port, args.partitions, str(seen))
            )
            proc.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if seen.exists() and seen.stat().st_size > total * 8:
                    break
                time.sleep(0.01)
            assert proc.pid is not None
            os.kill(proc.pid, signal.SIGKILL)
            proc.join()
            first = seen.read_text().splitlines()
            count, secs, bad = _drain(
                node.port, args.partitions, total, prefetch=1000, seen_file=str(seen)
            )
            lines = seen.read_text().splitlines()
            distinct = len(set(lines))
            print(f"kill: first consumer saw {len(first):,}; total seen {len(lines):,}, distinct "
                  f"{distinct:,} of {total:,}: redelivered {len(lines) - distinct:,}, "
                  f"missing {total - distinct:,}; order violations in 2nd {bad}")
            signal.signal(signal.SIGINT, signal.default_int_handler)
        finally:
            node.kill()


if __name__ == "__main__":
    main()
