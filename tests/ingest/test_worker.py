"""The ingest worker: batches by size, retries failures, acknowledges only what was stored."""

from __future__ import annotations

import queue
import time
from collections.abc import Sequence

from domain import Reading
from domain.devices import DeviceType
from domain.wire import encode_reading
from ingest.messages import Batch, RawMessage
from ingest.stats import IngestStats
from ingest.validation import Validator
from ingest.worker import IngestWorker
from tests.clock import SCENARIO_START
from tests.service_harness import wait_until


def raw(seq: int) -> RawMessage:
    reading = Reading("fridge-1", SCENARIO_START + seq, seq, {"cabinet_temp_c": 4.0})
    return RawMessage("devices/fridge-1/telemetry", encode_reading(reading), time.time(), seq, 1)


class FlakyDirectory:
    """A device directory whose database is away for the first `failures` lookups."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    def lookup(self, device_id: str) -> DeviceType | None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("database unreachable")
        return DeviceType.FRIDGE


def run_worker(
    lookup_failures: int, sink_failures: int, count: int
) -> tuple[list[Batch], list[int]]:
    inbox: queue.Queue[RawMessage] = queue.Queue()
    stored: list[Batch] = []
    acked: list[int] = []
    remaining_sink_failures = [sink_failures]

    def sink(batch: Batch) -> None:
        if remaining_sink_failures[0] > 0:
            remaining_sink_failures[0] -= 1
            raise OSError("disk full")
        stored.append(batch)

    def ack(messages: Sequence[RawMessage]) -> None:
        acked.extend(m.mid for m in messages)

    stats = IngestStats()
    worker = IngestWorker(
        inbox=inbox,
        validator=Validator(lookup=FlakyDirectory(lookup_failures).lookup, stats=stats),
        sink=sink,
        ack=ack,
        stats=stats,
        batch_size=50,
        max_age_s=0.05,
        max_backoff_s=0.05,
    )
    worker.start()
    for seq in range(1, count + 1):
        inbox.put(raw(seq))
    wait_until(lambda: len(acked) == count, 10, "every message acknowledged")
    worker.stop()
    return stored, acked


def test_lookup_and_sink_failures_are_retried_without_loss_or_duplicates() -> None:
    stored, acked = run_worker(lookup_failures=3, sink_failures=2, count=120)
    seqs = [r.seq for batch in stored for r in batch.readings]
    assert seqs == list(range(1, 121))
    assert acked == list(range(1, 121))
    assert all(len(batch) <= 50 for batch in stored)


def test_a_batch_the_sink_keeps_refusing_is_never_acknowledged() -> None:
    inbox: queue.Queue[RawMessage] = queue.Queue()
    attempts: list[int] = []
    acked: list[RawMessage] = []

    def sink(batch: Batch) -> None:
        attempts.append(len(batch.readings))
        raise OSError("store down")

    stats = IngestStats()
    worker = IngestWorker(
        inbox=inbox,
        validator=Validator(lookup=FlakyDirectory(0).lookup, stats=stats),
        sink=sink,
        ack=acked.extend,
        stats=stats,
        max_age_s=0.01,
        max_backoff_s=0.01,
    )
    worker.start()
    for seq in range(1, 6):
        inbox.put(raw(seq))
    wait_until(lambda: len(attempts) >= 3, 10, "the sink to be retried")
    worker.stop()
    assert acked == []
    assert stats.snapshot()["sink_failures"] >= 3
