"""Flux queries for telemetry history: one device's readings, and counts.

Each reading is one point whose fields are its metrics plus `seq`; a query selects the
device's series, pivots the fields back into one row per timestamp, and returns rows
oldest first. Every value that comes from a caller is written as an escaped Flux
literal, never pasted in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.line_protocol import DEVICE_TAG, SEQ_FIELD, encode_name

# Flux needs a bounded range; these stand for "since ever" and "until ever".
EARLIEST_NS = 0
LATEST_NS = 7_258_118_400 * 1_000_000_000  # 2200-01-01T00:00:00Z


def string(value: str) -> str:
    """`value` as a Flux string literal."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("${", "\\${")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def time(ns: int) -> str:
    """A Flux time literal (RFC 3339, nanoseconds, UTC) for `ns` since the epoch."""
    ns = min(max(ns, EARLIEST_NS), LATEST_NS)
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:09d}Z"


def history(
    *,
    bucket: str,
    measurement: str,
    device_id: str,
    metric: str | None,
    start_ns: int,
    stop_ns: int,
    limit: int,
) -> str:
    """Readings of `device_id` with `start_ns <= time < stop_ns`, oldest first, at most
    `limit`; with `metric`, only readings that carry it (and only it, plus `seq`)."""
    device = string(encode_name(device_id))
    lines = [
        f"from(bucket: {string(bucket)})",
        f"  |> range(start: {time(start_ns)}, stop: {time(stop_ns)})",
        f"  |> filter(fn: (r) => r._measurement == {string(encode_name(measurement))}"
        f" and r.{DEVICE_TAG} == {device})",
    ]
    if metric is not None:
        field = string(encode_name(metric, field=True))
        lines.append(
            f"  |> filter(fn: (r) => r._field == {field} or r._field == {string(SEQ_FIELD)})"
        )
    # Pivot per series first: grouping first would put float metrics and the integer
    # seq into one _value column, which Flux refuses (a schema collision).
    lines.append('  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")')
    if metric is not None:
        lines.append(f"  |> filter(fn: (r) => exists r[{field}])")
    lines += [
        "  |> group()",
        '  |> sort(columns: ["_time"])',
        f"  |> limit(n: {int(limit)})",
    ]
    return "\n".join(lines)


def count(*, bucket: str, measurement: str, device_id: str | None = None) -> str:
    """How many readings are stored (each has exactly one `seq` field)."""
    predicate = (
        f"r._measurement == {string(encode_name(measurement))} and r._field == {string(SEQ_FIELD)}"
    )
    if device_id is not None:
        predicate += f" and r.{DEVICE_TAG} == {string(encode_name(device_id))}"
    return "\n".join(
        [
            f"from(bucket: {string(bucket)})",
            f"  |> range(start: {time(EARLIEST_NS)}, stop: {time(LATEST_NS)})",
            f"  |> filter(fn: (r) => {predicate})",
            "  |> group()",
            "  |> count()",
        ]
    )
