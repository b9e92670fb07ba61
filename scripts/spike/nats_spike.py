"""Spike: NATS JetStream as the partitioned log behind Faultline (issue 13).

Devices publish plain MQTT to nats-server's MQTT listener; a subject mapping puts each
device in one of N partitions; one stream holds them; one durable pull consumer per
partition. Measures start-up, MQTT publish rate, a Python partitioned consumer's drain rate
(decode + per-device order check + ack), and what a SIGKILLed consumer leaves behind.

    .venv/bin/python scripts/spike/nats_spike.py --devices 1000 --readings 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import tempfile
import time
from pathlib import Path

import msgspec
import nats
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from faultline.nats_process import NatsServerProcess
from scripts.spike.devices import publish_backlog

STREAM = "FAULTLINE"


class _Reading(msgspec.Struct):
    ts: float
    seq: int
    metrics: dict[str, float]


async def _setup(url: str, partitions: int) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=STREAM, subjects=["part.>"]))
    for p in range(partitions):
        await js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name=f"part-{p:02d}",
                filter_subject=f"part.{p}.>",
                ack_policy=AckPolicy.ALL,
                ack_wait=5,
                max_ack_pending=20_000,
            ),
        )
    await nc.close()


async def _drain(
    url: str, partitions: list[int], expected: int, *, batch: int, seen_file: str | None = None
) -> tuple[int, float, int]:
    """Consume until `expected` messages were seen or the partitions stay empty.
    Returns (messages, seconds, order violations)."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    decoder = msgspec.json.Decoder(_Reading)
    last: dict[str, int] = {}
    count = 0
    violations = 0
    # Line-buffered: what was processed before a SIGKILL is on disk, acked or not.
    out = open(seen_file, "a", buffering=1) if seen_file else None  # noqa: SIM115
    subs = [
        await js.pull_subscribe_bind(f"part-{p:02d}", STREAM) for p in partitions
    ]
    began = time.monotonic()
    idle_rounds = 0

    async def one(sub: nats.js.JetStreamContext.PullSubscription) -> int:
        nonlocal count, violations
        try:
            msgs = await sub.fetch(batch, timeout=0.5)
        except (TimeoutError, nats.errors.TimeoutError):
            return 0
        if not msgs:
            return 0
        for msg in msgs:
            device = msg.subject.split(".")[3]
            reading = decoder.decode(msg.data)
            if reading.seq <= last.get(device, 0):
                violations += 1
            last[device] = reading.seq
            if out is not None:
                out.write(f"{device} {reading.seq}\n")
        if out is not None:
            out.flush()
        await msgs[-1].ack()  # AckAll: one ack covers the batch
        count += len(msgs)
        return len(msgs)

    while count < expected and idle_rounds < 3:
        got = sum(await asyncio.gather(*(one(sub) for sub in subs)))
        idle_rounds = idle_rounds + 1 if got == 0 else 0
    elapsed = time.monotonic() - began
    if out is not None:
        out.close()
    await nc.close()
    return count, elapsed, violations


def _killable(url: str, partitions: list[int], seen_file: str) -> None:
    asyncio.run(_drain(url, partitions, 10**9, batch=500, seen_file=seen_file))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--readings", type=int, default=100)
    parser.add_argument("--partitions", type=int, default=16)
    args = parser.parse_args()
    total = args.devices * args.readings
    with tempfile.TemporaryDirectory() as tmp:
        server = NatsServerProcess(Path(tmp), partitions=args.partitions)
        server.start()
        try:
            _run(server, args, total, Path(tmp))
        finally:
            server.stop()


def _run(server: NatsServerProcess, args: argparse.Namespace, total: int, tmp: Path) -> None:
    print(f"nats-server listening after {server.started_in_s:.3f}s")
    began = time.monotonic()
    asyncio.run(_setup(server.url, args.partitions))
    print(f"stream + {args.partitions} consumers created in {time.monotonic() - began:.3f}s")
    rate = publish_backlog(server.mqtt_port, devices=args.devices, readings=args.readings)
    print(f"MQTT QoS 1 publish: {rate:,.0f} msg/s ({total:,} messages)")
    parts = list(range(args.partitions))
    count, secs, bad = asyncio.run(_drain(server.url, parts, total, batch=1000))
    print(f"drain 1 process, {args.partitions} partitions: {count:,} in {secs:.2f}s = "
          f"{count / secs:,.0f}/s; order violations {bad}")

    # Kill: a consumer process SIGKILLed mid-stream, then another drains the rest.
    rate = publish_backlog(server.mqtt_port, devices=args.devices, readings=args.readings)
    seen = Path(tmp) / "seen.txt"
    proc = multiprocessing.Process(target=_killable, args=(server.url, parts, str(seen)))
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
    time.sleep(5.5)  # ack_wait: unacknowledged messages become deliverable again
    began = time.monotonic()
    count, secs, bad = asyncio.run(
        _drain(server.url, parts, total, batch=1000, seen_file=str(seen))
    )
    lines = seen.read_text().splitlines()
    distinct = len(set(lines))
    print(f"kill: first consumer saw {len(first):,}; after restart total seen {len(lines):,}, "
          f"distinct {distinct:,} of {total:,}: redelivered {len(lines) - distinct:,}, "
          f"missing {total - distinct:,}; order violations in 2nd {bad}")
    stats = json.dumps({"publish": rate})
    print(stats)


if __name__ == "__main__":
    main()
