"""InfluxDB's annotated CSV (the `/api/v2/query` response) parsed into typed tables.

A response holds one or more sections, separated by a blank line; each section starts
with annotation rows (`#datatype`, `#group`, `#default`), then a header row, then
records. The first column is the annotation column (empty in headers and records), then
`result` and `table`; a record's `table` number tells which table it belongs to. A query
that fails part-way answers a section whose header is `error,reference`.
"""

from __future__ import annotations

import base64
import calendar
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)


class AnnotatedCsvError(ValueError):
    """The text is not annotated CSV as InfluxDB writes it."""


class FluxQueryError(Exception):
    """InfluxDB reported an error inside a query response (an `error,reference` table)."""

    def __init__(self, message: str, reference: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reference = reference


@dataclass
class FluxTable:
    """One table of a result: its columns (in order), their types and group-key flags."""

    result: str
    table: int
    columns: tuple[str, ...]
    datatypes: tuple[str, ...]
    group: tuple[bool, ...]
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def group_key(self) -> dict[str, Any]:
        """The values every record of this table shares (its group key)."""
        if not self.records:
            return {}
        first = self.records[0]
        pairs = zip(self.columns, self.group, strict=True)
        return {name: first[name] for name, grouped in pairs if grouped}


def rfc3339_ns(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 instant (any fraction up to 9 digits)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise AnnotatedCsvError(f"{text!r} is not an RFC 3339 time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    seconds = calendar.timegm(
        (int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0)
    )
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds * 1_000_000_000 + int((fraction or "").ljust(9, "0"))


def _double(text: str) -> float:
    return float(text)  # float() reads InfluxDB's "+Inf", "-Inf" and "NaN"


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "string": str,
    "long": int,
    "unsignedLong": int,
    "double": _double,
    "boolean": lambda text: text == "true",
    "dateTime:RFC3339": rfc3339_ns,
    "dateTime:RFC3339Nano": rfc3339_ns,
    "dateTime": rfc3339_ns,
    "base64Binary": base64.b64decode,
    "duration": str,
}


@dataclass
class _Section:
    datatypes: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)
    header: list[str] | None = None


def parse(text: str) -> list[FluxTable]:
    """Every table of an annotated-CSV response, in order.

    Cells are converted by their `#datatype` (times to integer nanoseconds since the
    epoch); an empty cell takes the column's `#default`, or None. Raises
    `FluxQueryError` for an error table, `AnnotatedCsvError` for text that is not
    annotated CSV.
    """
    tables: list[FluxTable] = []
    section = _Section()
    current: FluxTable | None = None
    converters: list[Callable[[str], Any]] = []
    for row in csv.reader(io.StringIO(text)):
        if not row or all(cell == "" for cell in row):
            section, current = _Section(), None  # a blank line ends the section
            continue
        marker = row[0]
        if marker.startswith("#"):
            if section.header is not None:
                section, current = _Section(), None  # annotations start a new section
            _annotate(section, marker, row[1:])
            continue
        if section.header is None:
            section.header = row[1:]
            if section.header[:1] == ["error"]:
                continue
            converters = _converters_for(section)
            continue
        cells = row[1:]
        if section.header[:1] == ["error"]:
            values = dict(zip(section.header, cells, strict=False))
            raise FluxQueryError(values.get("error", ""), values.get("reference", ""))
        if len(cells) != len(section.header):
            raise AnnotatedCsvError(
                f"a record has {len(cells)} cells under a header of {len(section.header)}"
            )
        record = _record(section, converters, cells)
        table_no = int(record.get("table") or 0)
        result = str(record.get("result") or "_result")
        if current is None or current.table != table_no or current.result != result:
            current = FluxTable(
                result=result,
                table=table_no,
                columns=tuple(section.header),
                datatypes=tuple(_padded(section.datatypes, len(section.header), "string")),
                group=tuple(
                    flag == "true" for flag in _padded(section.group, len(section.header), "")
                ),
            )
            tables.append(current)
        current.records.append(record)
    return tables


def _annotate(section: _Section, marker: str, values: list[str]) -> None:
    if marker == "#datatype":
        section.datatypes = values
    elif marker == "#group":
        section.group = values
    elif marker == "#default":
        section.defaults = values
    # Other annotations (extended CSV for writes) carry nothing a query result needs.


def _converters_for(section: _Section) -> list[Callable[[str], Any]]:
    assert section.header is not None
    converters = []
    for datatype in _padded(section.datatypes, len(section.header), "string"):
        converter = _CONVERTERS.get(datatype)
        if converter is None:
            raise AnnotatedCsvError(f"unknown #datatype {datatype!r}")
        converters.append(converter)
    return converters


def _record(
    section: _Section, converters: list[Callable[[str], Any]], cells: list[str]
) -> dict[str, Any]:
    assert section.header is not None
    defaults = section.defaults
    record: dict[str, Any] = {}
    for i, (name, cell, convert) in enumerate(zip(section.header, cells, converters, strict=True)):
        if cell == "":
            cell = defaults[i] if i < len(defaults) else ""
            if cell == "":
                record[name] = None
                continue
        try:
            record[name] = convert(cell)
        except ValueError as exc:
            raise AnnotatedCsvError(f"column {name!r}: cannot read {cell!r} ({exc})") from exc
    return record


def _padded(values: list[str], length: int, fill: str) -> list[str]:
    return (values + [fill] * length)[:length]
