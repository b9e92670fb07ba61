"""The telemetry spool: while the store is away readings wait on disk, bounded, and are
replayed in order when it returns; a full spool refuses instead of dropping."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from domain import Reading
from storage.spool import Spool, SpoolFull
from storage.spooled_telemetry import SpooledTelemetryStore
from storage.telemetry import TelemetryError, TelemetryRejected
from tests.service_harness import wait_until


class FlakyStore:
    """An in-memory telemetry store that can be taken down; remembers the order of writes."""

    def __init__(self) -> None:
        self.up = True
        self.refuse_seq: int | None = None
        self.received: list[int] = []
        self.lock = threading.Lock()

    def write(self, readings: Sequence[Reading]) -> int:
        with self.lock:
            if not self.up:
                raise TelemetryError("store is down")
            if any(r.seq == self.refuse_seq for r in readings):
                raise TelemetryRejected("points beyond retention policy dropped")
            self.received += [r.seq for r in readings]
            return len(readings)

    def query(self, **_: object) -> list[Reading]:
        return []

    def count(self, device_id: str | None = None) -> int:
        return len(self.received)

    def ping(self) -> None:
        if not self.up:
            raise TelemetryError("store is down")

    def close(self) -> None:
        pass


def _batch(first: int, size: int = 10) -> list[Reading]:
    return [
        Reading("fridge-0001", 1_764_000_000.0 + seq, seq, {"cabinet_temp_c": 4.0})
        for seq in range(first, first + size)
    ]


@pytest.fixture
def inner() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def store(inner: FlakyStore, tmp_path: Path) -> Iterator[SpooledTelemetryStore]:
    spooled = SpooledTelemetryStore(inner, tmp_path / "spool", 1 << 20, retry_initial_s=0.02)
    yield spooled
    spooled.close()


def test_writes_go_straight_through_while_the_store_answers(
    store: SpooledTelemetryStore, inner: FlakyStore
) -> None:
    assert store.write(_batch(1)) == 10
    assert inner.received == list(range(1, 11))
    assert store.status()["readings"] == 0


def test_readings_wait_while_the_store_is_down_and_arrive_in_order_when_it_returns(
    store: SpooledTelemetryStore, inner: FlakyStore
) -> None:
    store.write(_batch(1))
    inner.up = False
    for first in range(11, 61, 10):
        assert store.write(_batch(first)) == 10  # accepted: on disk, safe to acknowledge
    assert store.status()["readings"] == 50
    with pytest.raises(TelemetryError):
        store.ping()
    inner.up = True
    # New readings queue behind the spooled ones even though the store is back.
    for first in range(61, 101, 10):
        store.write(_batch(first))
    assert store.drained(10)
    assert inner.received == list(range(1, 101))
    assert store.status()["replayed"] >= 50
    store.write(_batch(101))
    assert inner.received[-1] == 110


def test_a_full_spool_refuses_the_batch_so_ingest_holds_back(
    inner: FlakyStore, tmp_path: Path
) -> None:
    inner.up = False
    probe = Spool(tmp_path / "probe", 1 << 20)
    probe.append(_batch(1))
    one_batch = probe.bytes
    probe.close()
    store = SpooledTelemetryStore(inner, tmp_path / "spool", int(one_batch * 3.5))
    try:
        for first in (1, 11, 21):
            store.write(_batch(first))
        with pytest.raises(SpoolFull, match="FAULTLINE_TELEMETRY_SPOOL_MAX_BYTES"):
            store.write(_batch(31))
        inner.up = True
        assert store.drained(10)
        store.write(_batch(31))  # the refused batch, retried by ingest, now goes through
        assert inner.received == list(range(1, 41))
    finally:
        store.close()


def test_spooled_readings_survive_a_restart_and_are_replayed(
    inner: FlakyStore, tmp_path: Path
) -> None:
    inner.up = False
    first = SpooledTelemetryStore(inner, tmp_path / "spool", 1 << 20)
    first.write(_batch(1))
    first.write(_batch(11))
    first.close()
    inner.up = True
    second = SpooledTelemetryStore(inner, tmp_path / "spool", 1 << 20)
    try:
        assert second.drained(10)
        assert inner.received == list(range(1, 21))
    finally:
        second.close()


def test_a_batch_the_store_refuses_for_good_is_kept_aside_and_the_rest_replays(
    store: SpooledTelemetryStore, inner: FlakyStore
) -> None:
    inner.up = False
    for first in (1, 11, 21):
        store.write(_batch(first))
    inner.refuse_seq = 15
    inner.up = True
    assert store.drained(10)
    assert inner.received == list(range(1, 11)) + list(range(21, 31))
    assert store.status()["rejected"] == 10
    # Refused on the direct path too: kept aside, ingest goes on.
    inner.refuse_seq = 35
    assert store.write(_batch(31)) == 0
    store.write(_batch(41))
    assert store.status()["rejected"] == 20 and inner.received[-1] == 50


def test_refusals_on_both_paths_are_all_kept(
    store: SpooledTelemetryStore, inner: FlakyStore
) -> None:
    inner.refuse_seq = 5
    store.write(_batch(1))  # refused on the direct path: quarantined
    inner.up = False
    store.write(_batch(11))
    inner.refuse_seq = 15
    inner.up = True
    assert store.drained(10)  # refused on replay: moved aside next to the first
    assert store.status()["rejected"] == 20
    assert store.status()["last_error"] is None


def test_a_second_process_cannot_share_the_spool(inner: FlakyStore, tmp_path: Path) -> None:
    store = SpooledTelemetryStore(inner, tmp_path / "spool", 1 << 20)
    try:
        with pytest.raises(TelemetryError, match="in use by another process"):
            Spool(tmp_path / "spool", 1 << 20)
    finally:
        store.close()
    Spool(tmp_path / "spool", 1 << 20).close()  # free again once closed


def test_the_replayer_keeps_trying_until_the_store_returns(
    store: SpooledTelemetryStore, inner: FlakyStore
) -> None:
    inner.up = False
    store.write(_batch(1))
    wait_until(lambda: store.status()["last_error"] == "store is down", 5, "a failed replay")
    inner.up = True
    assert store.drained(10)
    assert store.status()["last_error"] is None
