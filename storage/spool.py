"""A bounded on-disk spool of readings waiting for the telemetry store, oldest first.

Batches live in a SQLite file with `synchronous=FULL`: `append()` returns once the batch
is on disk (fsync), so ingest may acknowledge it. The spool is bounded (`max_bytes` of
encoded readings) and refuses a batch that does not fit with `SpoolFull`; it keeps
batches the store refused for good in a `rejected` table, for inspection. One process
at a time (a lock file). `storage.spooled_telemetry` puts it in front of a store.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import msgspec

from domain import Reading
from storage.telemetry import TelemetryError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    readings INTEGER NOT NULL,
    spooled_at REAL NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY,
    readings INTEGER NOT NULL,
    spooled_at REAL NOT NULL,
    payload BLOB NOT NULL,
    reason TEXT NOT NULL,
    rejected_at REAL NOT NULL
);
"""

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(list[tuple[str, float, int, dict[str, float]]]).decode


class SpoolFull(TelemetryError):
    """The spool reached its size limit; ingest must hold back until the store returns."""


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    id: int
    readings: list[Reading]
    size: int


class Spool:
    """Batches of readings in `directory/spool.db`, oldest first, at most `max_bytes`.

    One process at a time: a second one fails at once (a lock file), since two
    replaying the same spool would interleave their batches.
    """

    def __init__(self, directory: str | Path, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_file: IO[str] = open(self.directory / "spool.lock", "a")  # noqa: SIM115
        except OSError as exc:
            raise TelemetryError(
                f"cannot create the telemetry spool in {self.directory} ({exc}): set "
                "FAULTLINE_TELEMETRY_SPOOL_DIR to a writable folder"
            ) from exc
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise TelemetryError(
                f"telemetry spool {self.directory} is in use by another process: give each "
                "service its own FAULTLINE_TELEMETRY_SPOOL_DIR"
            ) from None
        try:
            self._db = sqlite3.connect(
                self.directory / "spool.db", isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # Every commit is fsynced: a batch in the spool survives a crash or power cut.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute(
                "SELECT count(*), coalesce(sum(readings), 0), coalesce(sum(length(payload)), 0)"
                " FROM batches"
            ).fetchone()
            (rejected,) = self._db.execute(
                "SELECT coalesce(sum(readings), 0) FROM rejected"
            ).fetchone()
        except sqlite3.Error as exc:
            self._lock_file.close()
            raise TelemetryError(
                f"cannot open the telemetry spool in {self.directory}: {exc}"
            ) from exc
        self.batches, self.readings, self.bytes = (int(value) for value in row)
        self.rejected_readings = int(rejected)
        self._closed = False

    def append(self, readings: Sequence[Reading]) -> None:
        """Add a batch at the tail, durably; `SpoolFull` if it does not fit."""
        payload = _encode([(r.device_id, r.ts, r.seq, dict(r.metrics)) for r in readings])
        with self._lock:
            self._check_open()
            if self.bytes + len(payload) > self.max_bytes:
                raise SpoolFull(
                    f"telemetry spool {self.directory} is full ({self.readings} readings, "
                    f"{self.bytes:,} of {self.max_bytes:,} bytes) while the telemetry store "
                    "is away: ingest holds back (the broker keeps new messages) until it "
                    "returns; raise FAULTLINE_TELEMETRY_SPOOL_MAX_BYTES to ride out longer "
                    "outages"
                )
            try:
                self._db.execute(
                    "INSERT INTO batches (readings, spooled_at, payload) VALUES (?, ?, ?)",
                    (len(readings), time.time(), payload),
                )
            except sqlite3.Error as exc:
                raise TelemetryError(
                    f"cannot append to the telemetry spool {self.directory}: {exc}"
                ) from exc
            self.batches += 1
            self.readings += len(readings)
            self.bytes += len(payload)

    def head(self, max_readings: int) -> list[SpooledBatch]:
        """The oldest batches, as many as fit in `max_readings` (at least one)."""
        with self._lock:
            self._check_open()
            sizes = self._db.execute(
                "SELECT id, readings FROM batches ORDER BY id LIMIT 256"
            ).fetchall()
            wanted: list[int] = []
            total = 0
            for batch_id, count in sizes:
                if wanted and total + count > max_readings:
                    break
                wanted.append(batch_id)
                total += count
            rows = (
                self._db.execute(
                    "SELECT id, payload FROM batches WHERE id BETWEEN ? AND ? ORDER BY id",
                    (wanted[0], wanted[-1]),
                ).fetchall()
                if wanted
                else []
            )
        return [
            SpooledBatch(
                batch_id,
                [Reading(d, ts, seq, metrics) for d, ts, seq, metrics in _decode(payload)],
                len(payload),
            )
            for batch_id, payload in rows
        ]

    def remove(self, batches: Sequence[SpooledBatch]) -> None:
        """Drop batches the store has taken."""
        with self._lock:
            self._check_open()
            self._db.executemany("DELETE FROM batches WHERE id = ?", [(b.id,) for b in batches])
            self._forget(batches)

    def reject(self, batches: Sequence[SpooledBatch], reason: str) -> None:
        """Move batches the store refused for good aside, keeping them for inspection."""
        with self._lock:
            self._check_open()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for batch in batches:
                    self._db.execute(
                        "INSERT INTO rejected (readings, spooled_at, payload, reason, "
                        "rejected_at) SELECT readings, spooled_at, payload, ?, ? "
                        "FROM batches WHERE id = ?",
                        (reason[:1000], time.time(), batch.id),
                    )
                    self._db.execute("DELETE FROM batches WHERE id = ?", (batch.id,))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._forget(batches)
            self.rejected_readings += sum(len(b.readings) for b in batches)

    def quarantine(self, readings: Sequence[Reading], reason: str) -> None:
        """Keep a batch the store refused, without queueing it for replay."""
        payload = _encode([(r.device_id, r.ts, r.seq, dict(r.metrics)) for r in readings])
        now = time.time()
        with self._lock:
            self._check_open()
            self._db.execute(
                "INSERT INTO rejected (readings, spooled_at, payload, reason, rejected_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (len(readings), now, payload, reason[:1000], now),
            )
            self.rejected_readings += len(readings)

    def oldest_age_s(self) -> float | None:
        with self._lock:
            self._check_open()
            row = self._db.execute("SELECT min(spooled_at) FROM batches").fetchone()
        return None if row[0] is None else max(time.time() - row[0], 0.0)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
            self._lock_file.close()  # releases the flock

    def _forget(self, batches: Sequence[SpooledBatch]) -> None:
        self.batches -= len(batches)
        self.readings -= sum(len(b.readings) for b in batches)
        self.bytes -= sum(b.size for b in batches)

    def _check_open(self) -> None:
        if self._closed:
            raise TelemetryError(f"telemetry spool {self.directory} is closed")
