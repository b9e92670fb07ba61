"""Telemetry history in a local SQLite file: the default store, no server needed.

One row per reading, keyed and clustered on `(device, ts, seq)`: a repeated reading (the
same seq at the same time) is stored once, while a rebooted device counting from 1 again
is new data (DESIGN.md "Sequence numbers, reboots, loss"); the key is also the order of
history queries, so no second index costs writes. Metrics are a JSON object.
Device ids are interned as small integers (table `devices`): index entries stay small,
which is most of the write cost. Writes go through one connection under a lock (SQLite
has one writer at a time anyway); queries use a pool of reader connections, which WAL
lets run while a write is in progress. `compact()` keeps N days raw and older history as
hourly aggregates (`storage.embedded_retention`).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from domain import Reading
from storage import embedded_retention as retention
from storage.embedded_retention import CompactionReport, HourlyAggregate
from storage.telemetry import TelemetryError, TelemetryStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS readings (
    device INTEGER NOT NULL REFERENCES devices (id),
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (device, ts, seq)
) WITHOUT ROWID;
"""
# Files written before epochs were keyed on (device, seq), which dropped a rebooted
# device's readings as duplicates: rebuilt once, on open.
_REKEY = """
CREATE TABLE readings_rekeyed (
    device INTEGER NOT NULL REFERENCES devices (id),
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (device, ts, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO readings_rekeyed (device, seq, ts, metrics)
    SELECT device, seq, ts, metrics FROM readings;
DROP TABLE readings;
ALTER TABLE readings_rekeyed RENAME TO readings;
"""
_INSERT = "INSERT OR IGNORE INTO readings (device, seq, ts, metrics) VALUES (?, ?, ?, ?)"
# Resolves a device id to its key inside a query; NULL (no rows) for an unknown device.
_DEVICE_KEY = "(SELECT id FROM devices WHERE device_id = ?)"
_BUSY_TIMEOUT_S = 30.0

_encode = msgspec.json.Encoder().encode
_decode_metrics = msgspec.json.Decoder(dict[str, float]).decode


class EmbeddedTelemetryStore:
    """A `TelemetryStore` on the SQLite file at `path` (created with its folder if missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._write_lock = threading.Lock()
        self._idle_readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._closed = False
        # device id -> interned key, for keys already committed (they never change).
        self._device_keys: dict[str, int] = {}
        # device key -> (before, max_seq): readings already folded into hourly rows.
        self._folded: dict[int, tuple[float, int]] = {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect()
            # A big page cache and fewer, larger checkpoints: index inserts are the cost.
            self._writer.execute("PRAGMA cache_size=-64000")
            self._writer.execute("PRAGMA wal_autocheckpoint=16000")
            _rekey_if_old(self._writer)
            self._writer.executescript(_SCHEMA + retention.SCHEMA)
            self._folded = retention.folded_marks(self._writer)
        except (OSError, sqlite3.Error) as exc:
            raise self._error("cannot open", exc) from exc

    def write(self, readings: Sequence[Reading]) -> int:
        """Store `readings` in one transaction; returns how many were new."""
        if not readings:
            return 0
        with self._write_lock:
            self._check_open()
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    keys = self._device_keys_for(conn, readings)
                    before = conn.total_changes
                    conn.executemany(
                        _INSERT,
                        [
                            (keys[r.device_id], r.seq, r.ts, _encode_metrics(r.metrics))
                            for r in readings
                            if not self._folded or not self._was_folded(keys[r.device_id], r)
                        ],
                    )
                    stored = conn.total_changes - before
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLite rolls back by itself on some errors (disk full, I/O).
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._error("cannot write", exc) from exc
            # Only now are new keys durable (a rollback would have unassigned them).
            self._device_keys.update(keys)
            return stored

    def _was_folded(self, key: int, reading: Reading) -> bool:
        mark = self._folded.get(key)
        return mark is not None and reading.ts < mark[0] and reading.seq <= mark[1]

    def compact(self, raw_days: float) -> CompactionReport:
        """Fold readings older than `raw_days` before the newest one into hourly
        aggregates (min/mean/max per metric) and delete them; one transaction per device,
        so ingest keeps writing in between."""
        if raw_days <= 0:
            raise ValueError(f"raw_days must be positive, not {raw_days}")
        with self._reader() as conn:
            try:
                newest = retention.newest_per_device(conn)
            except sqlite3.Error as exc:
                raise self._error("cannot compact", exc) from exc
        if not newest:
            return CompactionReport(cutoff=None, readings_folded=0, devices=0)
        cutoff = retention.cutoff_for(max(newest.values()), raw_days)
        folded = devices = 0
        for key in newest:
            with self._write_lock:
                self._check_open()
                conn = self._writer
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        count, mark = retention.fold_device(conn, key, cutoff)
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                except sqlite3.Error as exc:
                    raise self._error("cannot compact", exc) from exc
                if mark is not None:
                    self._folded[key] = mark
            folded += count
            devices += bool(count)
        return CompactionReport(cutoff=cutoff, readings_folded=folded, devices=devices)

    def hourly(
        self,
        *,
        device_id: str,
        metric: str | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> list[HourlyAggregate]:
        """Hourly aggregates of one device (history older than the raw window), oldest
        first; `start`/`end` select hours by their start."""
        with self._reader() as conn:
            try:
                return retention.hourly(
                    conn, device_id=device_id, metric=metric, start=start, end=end
                )
            except sqlite3.Error as exc:
                raise self._error("cannot query hourly aggregates", exc) from exc

    def _device_keys_for(
        self, conn: sqlite3.Connection, readings: Sequence[Reading]
    ) -> dict[str, int]:
        keys: dict[str, int] = {}
        for device_id in {r.device_id for r in readings}:
            key = self._device_keys.get(device_id)
            if key is None:
                conn.execute("INSERT OR IGNORE INTO devices (device_id) VALUES (?)", (device_id,))
                (key,) = conn.execute(
                    "SELECT id FROM devices WHERE device_id = ?", (device_id,)
                ).fetchone()
            keys[device_id] = key
        return keys

    def query(
        self,
        *,
        device_id: str,
        metric: str | None = None,
        start: float | None = None,
        end: float | None = None,
        after: tuple[float, int] | None = None,
        limit: int = 1000,
    ) -> list[Reading]:
        """Readings of one device with `start <= ts < end`, oldest first (ties by seq).

        `metric` keeps only readings carrying it, each reduced to that metric;
        `after=(ts, seq)` resumes after that reading.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        sql = [f"SELECT ts, seq, metrics FROM readings WHERE device = {_DEVICE_KEY}"]
        params: list[Any] = [device_id]
        if start is not None:
            sql.append("AND ts >= ?")
            params.append(start)
        if end is not None:
            sql.append("AND ts < ?")
            params.append(end)
        if after is not None:
            after_ts, after_seq = after
            # `ts >= ?` alone is what lets the (device, ts, seq) index bound the scan.
            sql.append("AND ts >= ? AND (ts > ? OR seq > ?)")
            params += [after_ts, after_ts, after_seq]
        if metric is not None:
            sql.append("AND EXISTS (SELECT 1 FROM json_each(metrics) WHERE key = ?)")
            params.append(metric)
        sql.append("ORDER BY ts, seq LIMIT ?")
        params.append(limit)
        with self._reader() as conn:
            try:
                rows = conn.execute(" ".join(sql), params).fetchall()
            except sqlite3.Error as exc:
                raise self._error("cannot query", exc) from exc
        readings = []
        for ts, seq, text in rows:
            metrics = _decode_metrics(text)
            if metric is not None:
                metrics = {metric: metrics[metric]}
            readings.append(Reading(device_id=device_id, ts=ts, seq=seq, metrics=metrics))
        return readings

    def count(self, device_id: str | None = None) -> int:
        """How many readings are stored (for one device, or all: a full scan)."""
        params: tuple[str, ...] = ()
        if device_id is None:
            sql = "SELECT count(*) FROM readings"
        else:
            sql = f"SELECT count(*) FROM readings WHERE device = {_DEVICE_KEY}"
            params = (device_id,)
        with self._reader() as conn:
            try:
                (total,) = conn.execute(sql, params).fetchone()
            except sqlite3.Error as exc:
                raise self._error("cannot count", exc) from exc
        return int(total)

    def ping(self) -> None:
        with self._reader() as conn:
            try:
                conn.execute("SELECT 1 FROM readings LIMIT 1").fetchall()
            except sqlite3.Error as exc:
                raise self._error("cannot read", exc) from exc

    def close(self) -> None:
        """Close every connection; later calls raise `TelemetryError`. Idempotent."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            self._writer.close()
        self._drain_readers()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=_BUSY_TIMEOUT_S,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,  # pooled: used by one thread at a time, any thread
        )
        conn.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL: a power cut may lose the last commits, never corrupt the file.
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        self._check_open()
        try:
            conn = self._idle_readers.get_nowait()
        except queue.Empty:
            try:
                conn = self._connect()
            except sqlite3.Error as exc:
                raise self._error("cannot open", exc) from exc
        try:
            yield conn
        finally:
            self._idle_readers.put(conn)
            if self._closed:
                self._drain_readers()

    def _drain_readers(self) -> None:
        while True:
            try:
                self._idle_readers.get_nowait().close()
            except queue.Empty:
                return

    def _check_open(self) -> None:
        if self._closed:
            raise TelemetryError(f"embedded telemetry store {self.path} is closed")

    def _error(self, action: str, exc: BaseException) -> TelemetryError:
        return TelemetryError(
            f"embedded telemetry store {self.path}: {action} ({exc}); check that the "
            "path is writable, the disk has space and no other program holds the file"
        )


def _rekey_if_old(conn: sqlite3.Connection) -> None:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'readings'").fetchone()
    if row is not None and "PRIMARY KEY (device, seq)" in row[0]:
        conn.executescript("BEGIN IMMEDIATE;" + _REKEY + "COMMIT;")


def _encode_metrics(metrics: Any) -> str:
    return _encode(metrics if isinstance(metrics, dict) else dict(metrics)).decode()


if TYPE_CHECKING:

    def _implements_protocol(store: EmbeddedTelemetryStore) -> TelemetryStore:
        return store
