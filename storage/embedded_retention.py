"""Retention for the embedded telemetry store: raw readings for N days, hourly after.

Age is event time, relative to the newest reading in the store (not the wall clock): a
recorded fleet replayed today keeps its last N days raw, like a live one. Readings older
than the cut-off (rounded down to a whole hour) are folded into one row per device,
metric and hour — count, min, sum (mean = sum / count) and max — and deleted.

Folding remembers, per device, the cut-off and the highest `seq` folded, so a reading
redelivered after its hour was folded is recognised and not counted twice; a reading
that arrives later still and was never stored (a backlog, with a higher `seq`) is kept
raw and folded at the next run.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS hourly (
    device INTEGER NOT NULL REFERENCES devices (id),
    metric TEXT NOT NULL,
    hour INTEGER NOT NULL,
    n INTEGER NOT NULL,
    min REAL NOT NULL,
    sum REAL NOT NULL,
    max REAL NOT NULL,
    PRIMARY KEY (device, metric, hour)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS compacted (
    device INTEGER PRIMARY KEY REFERENCES devices (id),
    before REAL NOT NULL,
    max_seq INTEGER NOT NULL
);
"""

HOUR_S = 3600
DAY_S = 86_400

# A late or redelivered reading merges into the hour already folded.
_FOLD = """
INSERT INTO hourly (device, metric, hour, n, min, sum, max)
SELECT r.device, j.key, CAST(r.ts / 3600 AS INTEGER) * 3600 AS hour,
       count(*), min(j.value), sum(j.value), max(j.value)
FROM readings AS r, json_each(r.metrics) AS j
WHERE r.device = ? AND r.ts < ?
GROUP BY r.device, j.key, hour
ON CONFLICT (device, metric, hour) DO UPDATE SET
    n = n + excluded.n,
    min = min(hourly.min, excluded.min),
    sum = hourly.sum + excluded.sum,
    max = max(hourly.max, excluded.max)
"""
_REMEMBER = """
INSERT INTO compacted (device, before, max_seq) VALUES (?, ?, ?)
ON CONFLICT (device) DO UPDATE SET
    before = max(compacted.before, excluded.before),
    max_seq = max(compacted.max_seq, excluded.max_seq)
"""


@dataclass(frozen=True, slots=True)
class HourlyAggregate:
    """One metric of one device over one hour (`hour` is its start, Unix seconds)."""

    device_id: str
    metric: str
    hour: float
    count: int
    min: float
    mean: float
    max: float


@dataclass(frozen=True, slots=True)
class CompactionReport:
    """What one retention run did; `cutoff` is None when there was nothing to keep raw."""

    cutoff: float | None
    readings_folded: int
    devices: int


def cutoff_for(newest_ts: float, raw_days: float) -> float:
    """The first event time kept raw: `raw_days` before the newest reading, on the hour."""
    return float(int((newest_ts - raw_days * DAY_S) // HOUR_S) * HOUR_S)


def newest_per_device(conn: sqlite3.Connection) -> dict[int, float]:
    """Each device's newest event time (one index probe per device)."""
    newest = {}
    for (key,) in conn.execute("SELECT id FROM devices").fetchall():
        (ts,) = conn.execute("SELECT max(ts) FROM readings WHERE device = ?", (key,)).fetchone()
        if ts is not None:
            newest[key] = ts
    return newest


def fold_device(
    conn: sqlite3.Connection, device: int, cutoff: float
) -> tuple[int, tuple[float, int] | None]:
    """Fold `device`'s readings older than `cutoff` into `hourly` and delete them, inside
    the caller's transaction; returns how many were folded and the device's new mark."""
    count, max_seq = conn.execute(
        "SELECT count(*), max(seq) FROM readings WHERE device = ? AND ts < ?", (device, cutoff)
    ).fetchone()
    if not count:
        return 0, None
    conn.execute(_FOLD, (device, cutoff))
    conn.execute("DELETE FROM readings WHERE device = ? AND ts < ?", (device, cutoff))
    conn.execute(_REMEMBER, (device, cutoff, max_seq))
    (mark,) = conn.execute(
        "SELECT before, max_seq FROM compacted WHERE device = ?", (device,)
    ).fetchall()
    return int(count), (float(mark[0]), int(mark[1]))


def folded_marks(conn: sqlite3.Connection) -> dict[int, tuple[float, int]]:
    """Per device: readings with `ts < before` and `seq <= max_seq` are already folded."""
    return {
        device: (before, max_seq)
        for device, before, max_seq in conn.execute("SELECT device, before, max_seq FROM compacted")
    }


def hourly(
    conn: sqlite3.Connection,
    *,
    device_id: str,
    metric: str | None,
    start: float | None,
    end: float | None,
) -> list[HourlyAggregate]:
    sql = [
        "SELECT h.metric, h.hour, h.n, h.min, h.sum, h.max FROM hourly AS h",
        "WHERE h.device = (SELECT id FROM devices WHERE device_id = ?)",
    ]
    params: list[object] = [device_id]
    if metric is not None:
        sql.append("AND h.metric = ?")
        params.append(metric)
    if start is not None:
        sql.append("AND h.hour >= ?")
        params.append(int(start // HOUR_S) * HOUR_S)
    if end is not None:
        sql.append("AND h.hour < ?")
        params.append(end)
    sql.append("ORDER BY h.hour, h.metric")
    return [
        HourlyAggregate(device_id, name, float(hour), n, low, total / n, high)
        for name, hour, n, low, total, high in conn.execute(" ".join(sql), params)
    ]
