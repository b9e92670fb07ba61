"""`faultline bench telemetry`: write throughput (readings/s) of each telemetry backend.

Writes the same synthetic fridge readings (six metrics each) in ingest-sized batches to
- the embedded SQLite store,
- the InfluxDB store over `/api/v2/write` (line protocol, gzip): to `--influx-url` if
  given, else to a throw-away VictoriaMetrics when `victoria-metrics` is installed,
- the durable spool that takes over while InfluxDB is down (append + fsync per batch),
and reports readings/s (one reading = one InfluxDB point = one line) and metric values/s.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from domain import Reading
from faultline.victoria_metrics import VictoriaMetrics, victoria_metrics_binary
from storage.embedded_telemetry import EmbeddedTelemetryStore
from storage.influx_telemetry import InfluxTelemetryStore
from storage.line_protocol import LineEncoder
from storage.spool import Spool

BACKENDS = ("embedded", "influx", "spool", "encode")


@dataclass(frozen=True)
class BenchResult:
    backend: str
    target: str
    readings: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.readings / self.seconds if self.seconds > 0 else float("inf")


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--readings", type=int, default=200_000, help="readings per backend")
    parser.add_argument(
        "--devices", type=int, default=1000, help="devices the readings spread over"
    )
    parser.add_argument("--batch", type=int, default=1000, help="readings per write (ingest)")
    parser.add_argument(
        "--backend", choices=BACKENDS, action="append", help="repeatable; default: all"
    )
    parser.add_argument("--influx-url", default=None, help="an InfluxDB 2.x to write to")
    parser.add_argument("--influx-org", default="faultline", help="InfluxDB organisation")
    parser.add_argument("--influx-bucket", default="telemetry", help="InfluxDB bucket")
    parser.add_argument("--influx-token", default="", help="InfluxDB API token")
    parser.add_argument(
        "--precision", default="ns", choices=("ns", "us", "ms", "s"), help="write precision"
    )
    parser.add_argument("--no-gzip", action="store_true", help="send line protocol uncompressed")


def synthetic_readings(count: int, devices: int, start: float = 1_764_000_000.0) -> list[Reading]:
    """`count` fridge readings spread over `devices`, one per device every 30 s."""
    rng = random.Random(7)
    readings = []
    for i in range(count):
        device, step = i % devices, i // devices
        on = float(rng.random() < 0.4)
        readings.append(
            Reading(
                f"fridge-{device:05d}",
                start + step * 30.0 + device * 0.001,
                step + 1,
                {
                    "cabinet_temp_c": round(4.0 + rng.gauss(0, 0.3), 2),
                    "freezer_temp_c": round(-18.0 + rng.gauss(0, 0.5), 2),
                    "setpoint_c": 4.0,
                    "compressor_on": on,
                    "door_open": float(rng.random() < 0.02),
                    "power_w": round(90.0 * on + rng.gauss(3, 0.5), 1),
                },
            )
        )
    return readings


def timed(
    write: Callable[[Sequence[Reading]], object], readings: list[Reading], batch: int
) -> float:
    started = time.perf_counter()
    for first in range(0, len(readings), batch):
        write(readings[first : first + batch])
    return time.perf_counter() - started


def bench_embedded(workdir: Path, readings: list[Reading], batch: int) -> BenchResult:
    store = EmbeddedTelemetryStore(workdir / "telemetry.db")
    try:
        seconds = timed(store.write, readings, batch)
    finally:
        store.close()
    return BenchResult("embedded", "SQLite file", len(readings), seconds)


def bench_influx(
    url: str, args: argparse.Namespace, readings: list[Reading], target: str
) -> BenchResult:
    store = InfluxTelemetryStore(
        url=url,
        org=args.influx_org,
        bucket=args.influx_bucket,
        token=args.influx_token,
        precision=args.precision,
        device_type=lambda _device_id: "fridge",
        gzip=not args.no_gzip,
    )
    try:
        store.verify()
        seconds = timed(store.write, readings, args.batch)
    finally:
        store.close()
    return BenchResult("influx", target, len(readings), seconds)


def bench_spool(workdir: Path, readings: list[Reading], batch: int) -> BenchResult:
    spool = Spool(workdir / "spool", max_bytes=1 << 40)
    try:
        seconds = timed(spool.append, readings, batch)
    finally:
        spool.close()
    return BenchResult("spool", "store down: append+fsync", len(readings), seconds)


def bench_encode(readings: list[Reading], precision: str) -> BenchResult:
    encoder = LineEncoder(precision=precision, device_type=lambda _device_id: "fridge")
    started = time.perf_counter()
    encoder.lines(readings)
    return BenchResult("encode", "line protocol only", len(readings), time.perf_counter() - started)


def run(args: argparse.Namespace) -> list[BenchResult]:
    backends = args.backend or list(BACKENDS)
    readings = synthetic_readings(args.readings, args.devices)
    results = []
    with tempfile.TemporaryDirectory(prefix="faultline-bench-") as tmp:
        workdir = Path(tmp)
        if "encode" in backends:
            results.append(bench_encode(readings, args.precision))
        if "embedded" in backends:
            results.append(bench_embedded(workdir, readings, args.batch))
        if "spool" in backends:
            results.append(bench_spool(workdir, readings, args.batch))
        if "influx" in backends:
            if args.influx_url:
                results.append(bench_influx(args.influx_url, args, readings, args.influx_url))
            elif victoria_metrics_binary() is not None:
                server = VictoriaMetrics(workdir / "victoria-metrics")
                server.start()
                try:
                    results.append(
                        bench_influx(server.url, args, readings, "VictoriaMetrics /api/v2/write")
                    )
                finally:
                    server.stop()
            else:
                print("influx: skipped (no --influx-url, and victoria-metrics is not installed)")
    return results


def main(args: argparse.Namespace) -> int:
    results = run(args)
    metrics = 6
    print(
        f"{args.readings:,} readings of {metrics} metrics, {args.devices} devices, "
        f"batches of {args.batch}, precision {args.precision}"
    )
    print(f"{'backend':<10} {'target':<32} {'readings/s':>12} {'values/s':>12} {'seconds':>8}")
    for result in results:
        print(
            f"{result.backend:<10} {result.target:<32} {result.per_second:>12,.0f} "
            f"{result.per_second * (metrics + 1):>12,.0f} {result.seconds:>8.2f}"
        )
    return 0
