"""`faultline bench detect`: readings per second through the full detector set, on one core.

Simulated readings are generated first (not timed), then fed to a fresh `DetectionEngine`
in batches the way the pipeline does (`process` per reading, `advance` per batch). The
best of a few rounds is reported, as CPU time of this process, so a busy machine
distorts it less.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from detection.engine import DetectionEngine
from detection.fleet_model import FleetModel
from domain import DeviceType, Reading

START = 1_764_000_000.0
HOUR_S = 3600.0


@dataclass(frozen=True)
class BenchResult:
    readings: int
    devices: int
    seconds: float  # CPU seconds of the best round
    wall_seconds: float

    @property
    def per_second(self) -> float:
        return self.readings / self.seconds if self.seconds > 0 else float("inf")


def bench_readings(devices: int, hours: float, seed: int) -> list[tuple[DeviceType, Reading]]:
    """A fleet's readings in event-time order, with each device's type."""
    from faultline.eval_fleet import simulate

    run = simulate(devices=devices, days=hours / 24.0, seed=seed)
    return [(run.types[r.device_id], r) for r in run.readings]


def run_bench(
    rows: list[tuple[DeviceType, Reading]],
    *,
    rounds: int = 3,
    batch: int = 1000,
    fleet_model: FleetModel | None = None,
) -> BenchResult:
    """Time the engine over `rows`; the best of `rounds` fresh engines."""
    best_cpu = best_wall = float("inf")
    for _ in range(rounds):
        engine = DetectionEngine(fleet_model=fleet_model)
        process, advance = engine.process, engine.advance
        cpu, wall = time.process_time(), time.perf_counter()
        for start in range(0, len(rows), batch):
            for device_type, reading in rows[start : start + batch]:
                process(device_type, reading)
            advance()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    devices = len({r.device_id for _, r in rows})
    return BenchResult(len(rows), devices, best_cpu, best_wall)


def main(args: argparse.Namespace) -> int:
    rows = bench_readings(args.devices, args.hours, args.seed)
    model = None
    if args.fleet_model:
        from faultline.eval_fleet import train_fleet_model

        model = train_fleet_model(devices=min(args.devices, 200), days=2.0, seed=args.seed + 1)
    result = run_bench(rows, rounds=args.rounds, batch=args.batch, fleet_model=model)
    kinds = sorted({t.value for t, _ in rows})
    print(
        f"detect: {result.readings:,} readings from {result.devices} devices "
        f"({', '.join(kinds)}), batches of {args.batch}"
        + (", with the fleet model" if model is not None else "")
    )
    print(
        f"  {result.per_second:,.0f} readings/s on one core "
        f"({1e6 / result.per_second:.2f} µs per reading; CPU {result.seconds:.2f} s, "
        f"wall {result.wall_seconds:.2f} s, best of {args.rounds})"
    )
    return 0


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, default=200, help="simulated devices (mixed types)")
    parser.add_argument("--hours", type=float, default=12.0, help="event time simulated")
    parser.add_argument("--seed", type=int, default=11, help="simulation seed")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument("--batch", type=int, default=1000, help="readings per engine.advance()")
    parser.add_argument("--fleet-model", action="store_true", help="also score the fleet model")
