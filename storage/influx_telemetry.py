"""Telemetry history in InfluxDB 2.x: line protocol in (gzip, batched), Flux out.

Each reading is one point (see `storage.line_protocol`): device id and type as tags,
metrics and `seq` as fields, the reading's event time as the timestamp. InfluxDB keys a
point by measurement, tags and timestamp, so writing a reading again — a redelivered
MQTT batch, a spool replayed after a crash — overwrites the same point: writes are
idempotent, and the store never needs to ask what is already there. The flip side: two
readings of one device with the same timestamp at the write precision are one point.

Writes are synchronous, from the calling (ingest) thread, in requests of `batch_lines`
lines; 429 and 5xx answers and dropped connections are retried with backoff (honouring
Retry-After) a few times, then raised as `TelemetryError` so a `SpooledTelemetryStore`
can take over. A refused batch (400, 422: e.g. points older than the bucket's
retention) raises `TelemetryRejected`: writing it again cannot help. `verify()` checks
token, org and bucket once at start-up so a typo fails there, with a message that says
which setting to fix, rather than at the first write.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import urllib3
from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException
from influxdb_client.service.write_service import WriteService

from domain import Reading
from storage import annotated_csv, flux
from storage.line_protocol import (
    DEVICE_TAG,
    MEASUREMENT,
    SEQ_FIELD,
    TYPE_TAG,
    LineEncoder,
    decode_name,
)
from storage.telemetry import TelemetryError, TelemetryRejected, TelemetryStore

log = logging.getLogger(__name__)

T = TypeVar("T")

_RETRYABLE = frozenset({429, 500, 502, 503, 504})
_REFUSED = frozenset({400, 413, 422})
# Columns of a history result that are not metrics.
_NOT_METRICS = frozenset(
    {"result", "table", "_start", "_stop", "_time", "_measurement", DEVICE_TAG, TYPE_TAG, SEQ_FIELD}
)


class InfluxConfigError(TelemetryError):
    """Token, org or bucket are wrong: the service cannot work until a setting changes."""


class InfluxTelemetryStore:
    """A `TelemetryStore` on an InfluxDB 2.x bucket (or anything speaking /api/v2/write).

    `device_type(device_id)` answers the type tag of a device. `precision` is the write
    precision: `ns` (default; a float of Unix seconds carries microseconds, so that is
    what is kept), `us`, `ms` or `s`. `write()` returns how many readings it sent:
    InfluxDB does not say which points already existed.
    """

    def __init__(
        self,
        *,
        url: str,
        org: str,
        bucket: str,
        token: str,
        precision: str = "ns",
        measurement: str = MEASUREMENT,
        device_type: Callable[[str], str | None] = lambda _device_id: None,
        timeout_s: float = 10.0,
        batch_lines: int = 5000,
        max_retries: int = 3,
        retry_initial_s: float = 0.25,
        retry_max_s: float = 5.0,
        gzip: bool = True,
    ) -> None:
        self.url = url
        self.org = org
        self.bucket = bucket
        self.precision = precision
        self.measurement = measurement
        self.batch_lines = batch_lines
        self.max_retries = max_retries
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self._encoder = LineEncoder(
            precision=precision, measurement=measurement, device_type=device_type
        )
        self.gzip = gzip
        # The client's own gzip compresses at level 9, a third of the write throughput on
        # two cores; level 1 shrinks line protocol ~14x at 1.6M lines/s. So the body is
        # compressed here and posted through the client's synchronous write service.
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout_s * 1000))
        self._write_service = WriteService(self._client.api_client)
        self._query_api = self._client.query_api()
        self._closed = False

    def verify(self) -> None:
        """Check token, org and bucket; raise `InfluxConfigError` naming the setting to fix.

        A server that does not serve the buckets API (VictoriaMetrics, InfluxDB 1.x) is
        only pinged. An unreachable server raises plain `TelemetryError`.
        """
        try:
            found = self._client.buckets_api().find_buckets(name=self.bucket, org=self.org)
        except ApiException as exc:
            if exc.status in (401, 403):
                raise InfluxConfigError(self._token_message(exc)) from exc
            if exc.status == 404 and _is_influx_error(exc):
                raise InfluxConfigError(
                    f"org {self.org!r} not found on InfluxDB at {self.url} "
                    f"({_message(exc)}) — create it or set FAULTLINE_TELEMETRY_ORG"
                ) from exc
            if exc.status in (400, 404, 405, 501):
                log.warning(
                    "%s does not serve the InfluxDB 2 buckets API (%s): org %r and bucket %r "
                    "not checked",
                    self.url,
                    exc.status,
                    self.org,
                    self.bucket,
                )
                self.ping()
                return
            self._raise(exc, "check the bucket")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._raise(exc, "check the bucket")
        names = [bucket.name for bucket in (found.buckets or [])]
        if self.bucket not in names:
            raise InfluxConfigError(
                f"bucket {self.bucket!r} not found in org {self.org!r} — create it or set "
                "FAULTLINE_TELEMETRY_BUCKET (a token that may not read the bucket does not "
                "see it either)"
            )

    def write(self, readings: Sequence[Reading]) -> int:
        if not readings:
            return 0
        self._check_open()
        try:
            lines = self._encoder.lines(readings)
        except ValueError as exc:
            raise TelemetryRejected(f"readings cannot be written as line protocol: {exc}") from exc
        except Exception as exc:  # the device-type lookup reads the database
            raise TelemetryError(f"cannot look up device types to tag readings: {exc}") from exc
        for first in range(0, len(lines), self.batch_lines):
            chunk = lines[first : first + self.batch_lines]
            self._retrying(f"write {len(chunk)} lines", partial(self._post, chunk))
        return len(readings)

    def _post(self, lines: list[str]) -> None:
        body = "\n".join(lines).encode("utf-8")
        headers: dict[str, str] = {}
        if self.gzip:
            body = gzip.compress(body, compresslevel=1)
            headers["content_encoding"] = "gzip"
        self._write_service.post_write(
            org=self.org,
            bucket=self.bucket,
            body=body,
            precision=self.precision,
            content_type="text/plain; charset=utf-8",
            **headers,
        )

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
        """Readings of one device with `start <= ts < end`, oldest first.

        Readings with one timestamp are one point, so `after=(ts, seq)` resumes at the
        first timestamp after `ts`.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        start_ns = flux.EARLIEST_NS if start is None else _ns(start)
        stop_ns = flux.LATEST_NS if end is None else _ns(end)
        if after is not None:
            start_ns = max(start_ns, _ns(after[0]) + 1)
        if start_ns >= stop_ns:
            return []
        query = flux.history(
            bucket=self.bucket,
            measurement=self.measurement,
            device_id=device_id,
            metric=metric,
            start_ns=start_ns,
            stop_ns=stop_ns,
            limit=limit,
        )
        readings = []
        for table in self._run(query):
            for record in table.records:
                metrics = {
                    decode_name(name): float(value)
                    for name, value in record.items()
                    if name not in _NOT_METRICS and value is not None
                }
                seq = record.get(SEQ_FIELD)
                readings.append(
                    Reading(
                        device_id=device_id,
                        ts=_seconds(record["_time"]),
                        seq=0 if seq is None else int(seq),
                        metrics=metrics,
                    )
                )
        return readings

    def count(self, device_id: str | None = None) -> int:
        query = flux.count(bucket=self.bucket, measurement=self.measurement, device_id=device_id)
        return sum(
            int(record["_value"] or 0) for table in self._run(query) for record in table.records
        )

    def ping(self) -> None:
        self._check_open()
        try:
            self._client.version()
        except ApiException as exc:
            self._raise(exc, "ping")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._raise(exc, "ping")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._client.close()

    def _run(self, query: str) -> list[annotated_csv.FluxTable]:
        self._check_open()

        def call() -> str:
            response = self._query_api.query_raw(query, org=self.org)
            try:
                return bytes(response.data).decode("utf-8")
            finally:
                response.release_conn()

        text = self._retrying("query", call)
        try:
            return annotated_csv.parse(text)
        except annotated_csv.FluxQueryError as exc:
            raise TelemetryError(f"InfluxDB at {self.url} failed the query: {exc.message}") from exc
        except annotated_csv.AnnotatedCsvError as exc:
            raise TelemetryError(f"InfluxDB at {self.url} answered unreadable CSV: {exc}") from exc

    def _retrying(self, action: str, call: Callable[[], T]) -> T:
        """`call()`, retried with backoff while the server is overloaded or unreachable."""
        delay = self.retry_initial_s
        for attempt in range(self.max_retries + 1):
            try:
                return call()
            except ApiException as exc:
                if exc.status not in _RETRYABLE or attempt == self.max_retries:
                    self._raise(exc, action)
                pause = _retry_after(exc, delay)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if attempt == self.max_retries:
                    self._raise(exc, action)
                pause = delay
            pause = min(pause, self.retry_max_s)
            log.debug("InfluxDB %s failed (attempt %d); retrying in %.2fs", action, attempt, pause)
            time.sleep(pause * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.retry_max_s)
        raise AssertionError("unreachable")  # pragma: no cover

    def _raise(self, exc: BaseException, action: str) -> NoReturn:
        if not isinstance(exc, ApiException):
            raise TelemetryError(
                f"cannot reach InfluxDB at {self.url} to {action} ({exc}): is it running, and "
                "is FAULTLINE_TELEMETRY_URL right?"
            ) from exc
        status = exc.status
        if status in (401, 403):
            raise InfluxConfigError(self._token_message(exc)) from exc
        if status == 404:
            raise InfluxConfigError(
                f"InfluxDB at {self.url} could not {action}: {_message(exc)} — check "
                f"FAULTLINE_TELEMETRY_ORG ({self.org!r}) and FAULTLINE_TELEMETRY_BUCKET "
                f"({self.bucket!r})"
            ) from exc
        if status in _REFUSED:
            raise TelemetryRejected(
                f"InfluxDB at {self.url} refused to {action} ({status}: {_message(exc)})"
            ) from exc
        raise TelemetryError(
            f"InfluxDB at {self.url} failed to {action} ({status}: {_message(exc)})"
        ) from exc

    def _token_message(self, exc: ApiException) -> str:
        return (
            f"InfluxDB at {self.url} refused the token ({exc.status}: {_message(exc)}) — set "
            f"FAULTLINE_TELEMETRY_TOKEN to a token that may read and write bucket "
            f"{self.bucket!r} in org {self.org!r}"
        )

    def _check_open(self) -> None:
        if self._closed:
            raise TelemetryError(f"InfluxDB telemetry store for {self.url} is closed")


def _ns(ts: float) -> int:
    return round(ts * 1_000_000) * 1_000


def _seconds(ns: int) -> float:
    # Through whole microseconds: ns / 1e9 would first round ns (> 2**53) to a float.
    return ((ns + 500) // 1_000) / 1_000_000


def _message(exc: ApiException) -> str:
    message: Any = getattr(exc, "message", None) or exc.reason
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message).strip()[:300]


def _is_influx_error(exc: ApiException) -> bool:
    """Whether the body is InfluxDB's JSON error (`{"code": …, "message": …}`)."""
    try:
        body = json.loads(exc.body or b"")
    except (ValueError, TypeError):
        return False
    return isinstance(body, dict) and "code" in body


def _retry_after(exc: ApiException, default: float) -> float:
    value = getattr(exc, "retry_after", None)
    try:
        return max(float(value), 0.0) if value is not None else default
    except ValueError:
        return default


if TYPE_CHECKING:

    def _implements_protocol(store: InfluxTelemetryStore) -> TelemetryStore:
        return store
