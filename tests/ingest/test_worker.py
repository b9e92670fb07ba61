"""The ingest worker: batches by size, retries failures, acknowledges only what was stored."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from domain import Reading
from domain.devices import DeviceType
from domain.wire import DeadLetter, RejectReason, encode_reading
from ingest.inbox import Inbox
from ingest.messages import Batch, RawMessage
from ingest.stats import IngestStats
from ingest.validation import Validator
from ingest.worker import IngestWorker
from storage.embedded_telemetry import EmbeddedTelemetryStore
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
    inbox: Inbox[RawMessage] = Inbox(maxsize=10_000)
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
        inbox.put(raw(seq), timeout=1)
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
    inbox: Inbox[RawMessage] = Inbox(maxsize=10_000)
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
        inbox.put(raw(seq), timeout=1)
    wait_until(lambda: len(attempts) >= 3, 10, "the sink to be retried")
    worker.stop()
    assert acked == []
    assert stats.snapshot()["sink_failures"] >= 3


class TrustingValidator(Validator):
    """A validator without the edge's range checks, standing in for a check we have not
    thought of yet: the worker must survive what gets past validation."""

    def add_to(self, batch: Batch, message: RawMessage) -> None:
        body = json.loads(message.payload)
        batch.readings.append(Reading("fridge-1", body["ts"], body["seq"], body["metrics"]))


def poisoned_messages(poison_at: int, count: int) -> list[RawMessage]:
    messages = [raw(seq) for seq in range(1, count + 1)]
    body = {"ts": SCENARIO_START + poison_at, "seq": 2**63, "metrics": {"cabinet_temp_c": 4.0}}
    messages[poison_at - 1] = RawMessage(
        "devices/fridge-1/telemetry", json.dumps(body).encode(), time.time(), poison_at, 1
    )
    return messages


def run_against_store(
    store: EmbeddedTelemetryStore, messages: list[RawMessage], **options: object
) -> tuple[list[DeadLetter], list[int], IngestStats]:
    inbox: Inbox[RawMessage] = Inbox(maxsize=10_000)
    letters: list[DeadLetter] = []
    acked: list[int] = []

    def sink(batch: Batch) -> None:
        store.write(batch.readings)
        letters.extend(batch.dead_letters)

    stats = IngestStats()
    worker = IngestWorker(
        inbox=inbox,
        validator=TrustingValidator(lookup=FlakyDirectory(0).lookup, stats=stats),
        sink=sink,
        ack=lambda done: acked.extend(m.mid for m in done),
        stats=stats,
        batch_size=100,
        max_age_s=0.05,
        max_backoff_s=0.01,
        **options,  # type: ignore[arg-type]
    )
    worker.start()
    for message in messages:
        inbox.put(message, timeout=1)
    wait_until(lambda: len(acked) == len(messages), 20, "every message acknowledged")
    worker.stop()
    return letters, acked, stats


def test_a_reading_the_store_can_never_hold_is_dead_lettered_and_the_rest_stored(
    tmp_path: Path,
) -> None:
    store = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    try:
        letters, acked, stats = run_against_store(store, poisoned_messages(37, 100))
        assert store.count() == 99
        assert sorted(acked) == list(range(1, 101))
        assert [letter.reason for letter in letters] == [RejectReason.UNSTORABLE]
        assert "OverflowError" in letters[0].detail
        assert json.loads(letters[0].payload)["seq"] == 2**63
        assert stats.snapshot()["unstorable"] == 1
        assert stats.snapshot()["stored"] == 99
    finally:
        store.close()


def test_a_poison_taken_for_a_transient_failure_is_still_isolated_by_probing(
    tmp_path: Path,
) -> None:
    store = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    try:
        # Misjudged: every failure is called transient, so only probing can find it.
        letters, acked, _ = run_against_store(
            store, poisoned_messages(80, 100), is_transient=lambda exc: True, probe_after=3
        )
        assert store.count() == 99
        assert sorted(acked) == list(range(1, 101))
        assert [letter.reason for letter in letters] == [RejectReason.UNSTORABLE]
    finally:
        store.close()


def test_a_store_that_is_away_never_gets_its_readings_dead_lettered() -> None:
    inbox: Inbox[RawMessage] = Inbox(maxsize=10_000)
    attempts: list[int] = []
    stats = IngestStats()
    up = [False]
    stored: list[int] = []

    def sink(batch: Batch) -> None:
        attempts.append(len(batch))
        if not up[0]:
            raise OSError("connection refused")
        stored.extend(r.seq for r in batch.readings)
        assert not batch.dead_letters

    acked: list[int] = []
    worker = IngestWorker(
        inbox=inbox,
        validator=Validator(lookup=FlakyDirectory(0).lookup, stats=stats),
        sink=sink,
        ack=lambda done: acked.extend(m.mid for m in done),
        stats=stats,
        max_age_s=0.05,
        max_backoff_s=0.01,
        probe_after=2,
    )
    worker.start()
    for seq in range(1, 41):
        inbox.put(raw(seq), timeout=1)
    wait_until(lambda: len(attempts) >= 30, 10, "many failed attempts")
    assert acked == []
    up[0] = True
    wait_until(lambda: len(acked) == 40, 10, "everything stored once the store is back")
    worker.stop()
    assert sorted(stored) == list(range(1, 41))
    assert stats.snapshot()["unstorable"] == 0
