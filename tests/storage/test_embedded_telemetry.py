"""The embedded telemetry store: idempotent writes, filtered and paged queries, threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain import Reading
from storage.embedded_telemetry import EmbeddedTelemetryStore
from storage.telemetry import TelemetryError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedTelemetryStore]:
    store = EmbeddedTelemetryStore(tmp_path / "telemetry" / "readings.db")
    yield store
    store.close()


def _reading(seq: int, ts: float | None = None, device_id: str = "fridge-0001", **metrics: float):
    return Reading(
        device_id=device_id,
        ts=1_764_000_000.0 + seq * 10 if ts is None else ts,
        seq=seq,
        metrics=metrics or {"cabinet_temp_c": 4.0 + seq / 10, "power_w": 90.0},
    )


def test_a_repeated_device_seq_and_ts_is_stored_once(store: EmbeddedTelemetryStore) -> None:
    assert store.write([_reading(1), _reading(2)]) == 2
    # The same (device_id, ts, seq) again, even with other values: skipped.
    assert store.write([_reading(2), _reading(2, power_w=1.0), _reading(3)]) == 1
    assert store.write([_reading(1, device_id="fridge-0002")]) == 1
    assert store.write([]) == 0

    assert store.count() == 4
    assert store.count("fridge-0001") == 3
    assert store.count("nobody") == 0
    kept = store.query(device_id="fridge-0001")
    assert [(r.seq, r.metrics["power_w"]) for r in kept] == [(1, 90.0), (2, 90.0), (3, 90.0)]


def test_a_rebooted_device_counting_from_one_again_is_stored(
    store: EmbeddedTelemetryStore,
) -> None:
    first_run = [_reading(seq) for seq in range(1, 6)]
    after_reboot = [_reading(seq, ts=1_764_001_000.0 + seq * 10) for seq in range(1, 4)]
    assert store.write(first_run) == 5
    assert store.write(after_reboot) == 3
    assert store.write(after_reboot) == 0  # redelivered: true duplicates
    assert [r.seq for r in store.query(device_id="fridge-0001")] == [1, 2, 3, 4, 5, 1, 2, 3]


def test_a_file_keyed_on_device_and_seq_is_rekeyed_on_open(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE devices (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL UNIQUE);
        CREATE TABLE readings (device INTEGER NOT NULL REFERENCES devices (id),
            seq INTEGER NOT NULL, ts REAL NOT NULL, metrics TEXT NOT NULL,
            PRIMARY KEY (device, seq));
        INSERT INTO devices VALUES (1, 'fridge-0001');
        INSERT INTO readings VALUES (1, 1, 1764000010.0, '{"power_w": 90.0}');
        INSERT INTO readings VALUES (1, 2, 1764000020.0, '{"power_w": 91.0}');
        """
    )
    conn.close()
    store = EmbeddedTelemetryStore(path)
    try:
        assert store.count() == 2
        assert store.write([_reading(1, ts=1_764_005_000.0)]) == 1  # a reboot, kept now
        assert [r.seq for r in store.query(device_id="fridge-0001")] == [1, 2, 1]
    finally:
        store.close()


def test_query_returns_one_device_in_time_order_within_a_half_open_range(
    store: EmbeddedTelemetryStore,
) -> None:
    # Arrives out of order; a tie on ts is broken by seq.
    store.write([_reading(3), _reading(1), _reading(2), _reading(4, ts=1_764_000_030.0)])
    store.write([_reading(9, device_id="washer-0001", drum_rpm=800.0)])

    everything = store.query(device_id="fridge-0001")
    assert [r.seq for r in everything] == [1, 2, 3, 4]
    assert all(r.device_id == "fridge-0001" for r in everything)
    assert everything[0] == _reading(1)

    window = store.query(device_id="fridge-0001", start=1_764_000_020.0, end=1_764_000_030.0)
    assert [r.seq for r in window] == [2]
    assert [r.seq for r in store.query(device_id="fridge-0001", limit=2)] == [1, 2]
    assert store.query(device_id="nobody") == []


def test_metric_filter_keeps_only_readings_carrying_it_reduced_to_it(
    store: EmbeddedTelemetryStore,
) -> None:
    store.write(
        [
            _reading(1, cabinet_temp_c=4.0, door_open=0.0),
            _reading(2, cabinet_temp_c=4.5),
            _reading(3, door_open=1.0),
        ]
    )
    doors = store.query(device_id="fridge-0001", metric="door_open")
    assert [(r.seq, dict(r.metrics)) for r in doors] == [
        (1, {"door_open": 0.0}),
        (3, {"door_open": 1.0}),
    ]
    assert store.query(device_id="fridge-0001", metric="no_such_metric") == []


def test_cursor_pages_walk_every_reading_once(store: EmbeddedTelemetryStore) -> None:
    readings = [_reading(seq) for seq in range(1, 24)]
    # Several readings share a ts: the cursor must order and resume on (ts, seq).
    readings += [_reading(seq, ts=1_764_000_050.0) for seq in range(100, 105)]
    store.write(readings)

    seen: list[int] = []
    after: tuple[float, int] | None = None
    while page := store.query(device_id="fridge-0001", after=after, limit=4):
        seen += [r.seq for r in page]
        after = (page[-1].ts, page[-1].seq)
    full = store.query(device_id="fridge-0001", limit=10_000)
    assert seen == [r.seq for r in full]
    assert sorted(seen) == sorted(r.seq for r in readings)

    resumed = store.query(
        device_id="fridge-0001", after=(1_764_000_050.0, 101), start=0.0, end=1_764_000_070.0
    )
    assert [r.seq for r in resumed] == [102, 103, 104, 6]


def test_readings_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "readings.db"
    first = EmbeddedTelemetryStore(path)
    first.write([_reading(1), _reading(1, device_id="fridge-0002")])
    first.close()

    second = EmbeddedTelemetryStore(path)
    try:
        assert second.write([_reading(1), _reading(2)]) == 1
        assert [r.seq for r in second.query(device_id="fridge-0001")] == [1, 2]
        assert second.count("fridge-0002") == 1
    finally:
        second.close()


def test_queries_from_another_thread_see_whole_batches_while_a_worker_writes(
    store: EmbeddedTelemetryStore,
) -> None:
    batches = [
        [_reading(seq, device_id=f"fridge-{seq % 5}") for seq in range(b * 100, (b + 1) * 100)]
        for b in range(30)
    ]
    errors: list[BaseException] = []
    first_query_done = threading.Event()

    def write_all() -> None:
        try:
            first_query_done.wait()
            for batch in batches:
                store.write(batch)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    writer = threading.Thread(target=write_all)
    writer.start()
    counts = []
    while writer.is_alive():
        counts.append(store.count())
        store.query(device_id="fridge-1", limit=50)
        first_query_done.set()
    writer.join()

    assert errors == []
    assert counts == sorted(counts)  # never goes backwards
    assert all(count % 100 == 0 for count in counts)  # a batch is all or nothing
    assert store.count() == 3000


def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = EmbeddedTelemetryStore(tmp_path / "readings.db")
    store.ping()
    store.close()
    store.close()
    with pytest.raises(TelemetryError, match="closed"):
        store.write([_reading(1)])
    with pytest.raises(TelemetryError, match="closed"):
        store.query(device_id="fridge-0001")
    with pytest.raises(TelemetryError, match="closed"):
        store.ping()


def test_an_unopenable_path_raises_telemetry_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(TelemetryError, match="cannot open"):
        EmbeddedTelemetryStore(blocker / "readings.db")
