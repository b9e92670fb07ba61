"""`faultline bench scale`: readings/s end to end through partitioned workers (validate,
store in the embedded stores, detect, checkpoint), 1 worker vs N, in one run.

For each worker count: a fresh nats-server (JetStream, the partition mapping) and fresh
embedded stores (SQLite files the workers share), `--devices` fridges provisioned, the
workers started as `faultline run` processes and settled on their partitions, then a
backlog of `--readings` per device published on the subjects nats-server's MQTT gateway
uses; the figure is readings / (seconds from the first publish until every reading is
stored and every partition acknowledged to its end). A bare consumer (fetch, decode, ack:
no store, no detection) drains the same backlog in this process for comparison.
Figures on a shared machine are noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import nats
from nats.js.api import AckPolicy, ConsumerConfig

from domain import DeviceInfo, DeviceType, Location, Reading
from domain.wire import encode_reading
from faultline.nats_process import NatsServerProcess
from faultline.sockets import free_port
from ingest.partition_log import DEFAULT_STREAM, stream_config
from storage import devices
from storage.database import make_engine, make_session_factory, migrate

START_TS = 1_740_960_000.0  # a fixed Monday in the past: the figures never depend on the date
TOKEN = "bench-operator-token"


@dataclass(frozen=True)
class ScaleResult:
    workers: int
    readings: int
    publish_s: float
    seconds: float
    stream_bytes_per_reading: float = 0.0  # what JetStream keeps per reading
    checkpoint_bytes_per_device: float = 0.0  # detection state, gzipped, in the database
    worker_cpu_us: float = 0.0  # CPU time of all workers per reading (load-independent)
    server_cpu_us: float = 0.0  # CPU time of nats-server per reading (publish + deliver)

    @property
    def per_second(self) -> float:
        return self.readings / self.seconds if self.seconds > 0 else float("inf")


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, default=1000, help="fridges in the fleet")
    parser.add_argument("--readings", type=int, default=60, help="readings per device")
    parser.add_argument(
        "--workers", default="1,2", help="comma-separated worker counts, each measured once"
    )
    parser.add_argument("--partitions", type=int, default=16, help="device partitions")
    parser.add_argument("--batch", type=int, default=1000, help="ingest batch size")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after (s)")


def fridge_readings(devices: int, per_device: int, seed: int = 13) -> Iterator[Reading]:
    """Healthy fridges, one reading a minute, devices interleaved as a fleet sends them."""
    rng = random.Random(seed)
    temps = [rng.uniform(3.0, 5.0) for _ in range(devices)]
    for n in range(1, per_device + 1):
        for d in range(devices):
            temps[d] += rng.gauss(0.0, 0.05) + (4.0 - temps[d]) * 0.05
            compressor = 1.0 if (n + d) % 20 < 8 else 0.0
            yield Reading(
                f"fridge-{d:05d}",
                START_TS + 60.0 * n,
                n,
                {
                    "cabinet_temp_c": round(temps[d], 3),
                    "freezer_temp_c": round(-18.0 + rng.gauss(0, 0.2), 3),
                    "setpoint_c": 4.0,
                    "compressor_on": compressor,
                    "door_open": 1.0 if rng.random() < 0.02 else 0.0,
                    "power_w": round(compressor * 95.0 + rng.gauss(3.0, 0.5), 2),
                },
            )


def main(args: argparse.Namespace) -> int:
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    readings = list(fridge_readings(args.devices, args.readings))
    load_before = os.getloadavg()
    results = [_measure(n, args, readings) for n in counts]
    bare = _bare(args, readings)
    load_after = os.getloadavg()
    print(
        f"{len(readings):,} readings ({args.devices} fridges x {args.readings}), "
        f"{args.partitions} partitions, batches of {args.batch}, embedded stores; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"{'workers':>7} {'readings/s':>12} {'seconds':>8} {'publish s':>9} {'vs 1':>6} "
        f"{'stream B/reading':>16} {'checkpoint B/device':>19} "
        f"{'worker CPU us/reading':>21} {'nats CPU us/reading':>19}"
    )
    base = results[0].per_second if results else 0.0
    for result in results:
        print(
            f"{result.workers:>7} {result.per_second:>12,.0f} {result.seconds:>8.2f} "
            f"{result.publish_s:>9.2f} {result.per_second / base:>6.2f} "
            f"{result.stream_bytes_per_reading:>16,.0f} "
            f"{result.checkpoint_bytes_per_device:>19,.0f} "
            f"{result.worker_cpu_us:>21,.1f} {result.server_cpu_us:>19,.1f}"
        )
    print(f"{'bare':>7} {bare.per_second:>12,.0f} {bare.seconds:>8.2f} {bare.publish_s:>9.2f}")
    return 0


def _provision(database: Path, device_count: int) -> None:
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    with make_session_factory(engine).begin() as session:
        for d in range(device_count):
            info = DeviceInfo(
                f"fridge-{d:05d}", DeviceType.FRIDGE, "FR-300", f"c-{d}", Location(31.2, 121.5)
            )
            devices.create(session=session, device_in=info)
    engine.dispose()


def _measure(workers: int, args: argparse.Namespace, readings: list[Reading]) -> ScaleResult:
    with tempfile.TemporaryDirectory(prefix="faultline-bench-scale-") as tmp:
        workdir = Path(tmp)
        server = NatsServerProcess(workdir / "nats", partitions=args.partitions)
        server.start()
        procs: list[tuple[subprocess.Popen[bytes], int]] = []
        try:
            _provision(workdir / "faultline.db", args.devices)
            for n in range(workers):
                procs.append(_start_worker(workdir, server, n, args))
            _wait(lambda: _owned(procs) == args.partitions, 120, "workers to own the partitions")
            pids = [proc.pid for proc, _ in procs]
            assert server.process is not None
            cpu_before = _cpu_s(pids), _cpu_s([server.process.pid])
            began = time.monotonic()
            asyncio.run(_publish(server.url, readings))
            published = time.monotonic() - began
            _wait(
                lambda: _stored(workdir) >= len(readings) and asyncio.run(_drained(server.url)),
                args.timeout,
                "the backlog to drain",
                poll_s=0.1,
            )
            seconds = time.monotonic() - began
            worker_cpu = _cpu_s(pids) - cpu_before[0]
            server_cpu = _cpu_s([server.process.pid]) - cpu_before[1]
            stream_bytes = asyncio.run(_stream_bytes(server.url)) / len(readings)
            _stop(procs)  # each hands its partitions back with a final checkpoint
            return ScaleResult(
                workers,
                len(readings),
                published,
                seconds,
                stream_bytes,
                _checkpoint_bytes_per_device(workdir / "faultline.db"),
                worker_cpu / len(readings) * 1e6,
                server_cpu / len(readings) * 1e6,
            )
        finally:
            _stop(procs)
            server.stop()


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds the processes (and their threads) have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _stop(procs: list[tuple[subprocess.Popen[bytes], int]]) -> None:
    for proc, _port in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc, _port in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _checkpoint_bytes_per_device(database: Path) -> float:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        size, count = db.execute(
            "SELECT sum(length(data)), sum(devices) FROM detection_checkpoints"
        ).fetchone()
    return float(size or 0) / count if count else 0.0


async def _stream_bytes(url: str) -> int:
    client = await nats.connect(url)
    try:
        info = await client.jetstream().stream_info(DEFAULT_STREAM)
    finally:
        await client.close()
    return int(info.state.bytes)


def _start_worker(
    workdir: Path, server: NatsServerProcess, n: int, args: argparse.Namespace
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTLINE_")}
    env.update(
        {
            "FAULTLINE_SCALE_BACKEND": "nats",
            "FAULTLINE_NATS_URL": server.url,
            "FAULTLINE_MQTT_URL": server.mqtt_url,
            "FAULTLINE_PARTITIONS": str(args.partitions),
            "FAULTLINE_DATABASE_URL": f"sqlite:///{workdir / 'faultline.db'}",
            "FAULTLINE_TELEMETRY_PATH": str(workdir / "telemetry.db"),
            "FAULTLINE_HTTP_PORT": str(port),
            "FAULTLINE_ADMIN_TOKEN": TOKEN,
            "FAULTLINE_WORKER_ID": f"bench-{n}",
            "FAULTLINE_FIELDSERVICE_ENABLED": "false",
            "FAULTLINE_INGEST_BATCH_SIZE": str(args.batch),
            "FAULTLINE_PARTITION_LEASE_S": "5",
        }
    )
    log = open(workdir / f"worker-{n}.log", "wb")  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "faultline.cli", "run"],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()
    return proc, port


def _owned(procs: list[tuple[subprocess.Popen[bytes], int]]) -> int:
    total = 0
    for proc, port in procs:
        if proc.poll() is not None:
            raise RuntimeError(f"a worker exited with {proc.returncode}; see its log")
        try:
            response = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/ingest/stats",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=5,
            )
        except httpx.HTTPError:
            return -1
        if response.status_code != 200:
            return -1
        total += len(response.json().get("partitions", {}).get("owned", []))
    return total


def _stored(workdir: Path) -> int:
    path = workdir / "telemetry.db"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        try:
            return int(db.execute("SELECT count(*) FROM readings").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


async def _publish(url: str, readings: list[Reading]) -> None:
    client = await nats.connect(url)
    for n, reading in enumerate(readings):
        await client.publish(f"devices.{reading.device_id}.telemetry", encode_reading(reading))
        if n % 10_000 == 0:
            await client.flush()
    await client.flush()
    await client.close()


async def _drained(url: str) -> bool:
    client = await nats.connect(url)
    try:
        infos = await client.jetstream().consumers_info(DEFAULT_STREAM)
    finally:
        await client.close()
    return bool(infos) and all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos)


class _Payload(msgspec.Struct):
    ts: float
    seq: int
    metrics: dict[str, float]


def _bare(args: argparse.Namespace, readings: list[Reading]) -> ScaleResult:
    """One process, every partition: fetch, decode, ack. What the broker and client allow."""
    with tempfile.TemporaryDirectory(prefix="faultline-bench-bare-") as tmp:
        server = NatsServerProcess(Path(tmp) / "nats", partitions=args.partitions)
        server.start()
        try:
            return asyncio.run(_bare_drain(server.url, args, readings))
        finally:
            server.stop()


async def _bare_drain(url: str, args: argparse.Namespace, readings: list[Reading]) -> ScaleResult:
    client = await nats.connect(url)
    js = client.jetstream()
    await js.add_stream(stream_config(DEFAULT_STREAM, "devices", 3600.0))
    subs = []
    for p in range(args.partitions):
        await js.add_consumer(
            DEFAULT_STREAM,
            ConsumerConfig(
                durable_name=f"bare-{p}",
                filter_subject=f"part.{p}.devices.>",
                ack_policy=AckPolicy.ALL,
                max_ack_pending=20_000,
            ),
        )
        subs.append(await js.pull_subscribe_bind(f"bare-{p}", DEFAULT_STREAM))
    began = time.monotonic()
    await _publish(url, readings)
    published = time.monotonic() - began
    decode = msgspec.json.Decoder(_Payload).decode
    count = 0

    async def one(sub: nats.js.JetStreamContext.PullSubscription) -> int:
        try:
            msgs = await sub.fetch(args.batch, timeout=0.2)
        except TimeoutError:
            return 0
        for msg in msgs:
            decode(msg.data)
        await msgs[-1].ack()
        return len(msgs)

    while count < len(readings) and time.monotonic() - began < args.timeout:
        count += sum(await asyncio.gather(*(one(sub) for sub in subs)))
    seconds = time.monotonic() - began
    await client.close()
    return ScaleResult(0, count, published, seconds)


def _wait(
    condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.25
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll_s)
    raise RuntimeError(f"bench: timed out after {timeout_s:.0f}s waiting for {what}")
