"""Write throughput of the embedded telemetry store (slow: `pytest -m slow -s tests/storage`).

Batches of 1,000 readings with 6 metrics, each batch the next reading of 1,000 distinct
devices of a shuffled fleet: the shape an ingest worker hands over, and the worst case
for a store indexed by device (every reading lands on a different index page).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from domain import Reading
from storage.embedded_telemetry import EmbeddedTelemetryStore

METRICS = (
    "cabinet_temp_c",
    "freezer_temp_c",
    "setpoint_c",
    "compressor_on",
    "door_open",
    "power_w",
)


def _batches(fleet: int, count: int, size: int = 1000) -> list[list[Reading]]:
    devices = [f"fridge-{n:05d}" for n in range(fleet)]
    random.Random(7).shuffle(devices)
    batches = []
    for b in range(count):
        batch = []
        for i in range(size):
            k = b * size + i
            seq = k // fleet
            metrics = {name: 4.0 + (k % 7) / 10 + j for j, name in enumerate(METRICS)}
            batch.append(Reading(devices[k % fleet], 1_764_000_000.0 + seq * 10.0, seq, metrics))
        batches.append(batch)
    return batches


@pytest.mark.slow
@pytest.mark.parametrize(("fleet", "count"), [(1_000, 1_000), (10_000, 300)])
def test_write_throughput(tmp_path: Path, fleet: int, count: int) -> None:
    batches = _batches(fleet, count)
    store = EmbeddedTelemetryStore(tmp_path / "readings.db")
    try:
        rates = []
        quarter = count // 4
        for q in range(4):
            started = time.perf_counter()
            stored = sum(store.write(batch) for batch in batches[q * quarter : (q + 1) * quarter])
            rates.append(stored / (time.perf_counter() - started))
        started = time.perf_counter()
        again = sum(store.write(batch) for batch in batches[:quarter])
        duplicate_rate = quarter * 1000 / (time.perf_counter() - started)
    finally:
        store.close()
    print(
        f"\nfleet {fleet}: readings/s by quarter of {quarter * 1000:,} "
        + ", ".join(f"{rate:,.0f}" for rate in rates)
        + f"; all-duplicate batches {duplicate_rate:,.0f}/s"
    )
    assert again == 0
    assert min(rates) > 5_000  # a floor against pathological regressions, not a target
