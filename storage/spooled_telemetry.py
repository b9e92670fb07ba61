"""A telemetry store that keeps working while the one behind it is away: a durable spool.

`SpooledTelemetryStore` wraps a store that lives across the network (InfluxDB). While
that store answers, writes go straight through. When it fails or times out, the batch is
appended to the spool — SQLite with `synchronous=FULL`, so a batch is on disk (fsync)
before `write()` returns and ingest acknowledges it — and every later batch queues
behind it, so the store receives readings in the order ingest stored them. A background
thread replays the spool, oldest first, as soon as the store answers again, and deletes
each batch only after the store took it; a crash between the two replays that batch
once more, which the store absorbs (InfluxDB overwrites a point written twice).

The spool is bounded (`max_bytes` of encoded readings). When it is full, `write()`
raises `SpoolFull`: the ingest worker then retries without acknowledging, and the broker
holds the rest in the persistent session — backpressure instead of loss. A batch the
store refuses for good (`TelemetryRejected`) is moved to a `rejected` table in the same
file, counted and logged, so it can neither block the replay nor vanish.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain import Reading
from storage.spool import Spool, SpooledBatch
from storage.telemetry import TelemetryError, TelemetryRejected, TelemetryStore

log = logging.getLogger(__name__)


class SpooledTelemetryStore:
    """`inner`, with a `Spool` in `spool_dir` taking over while `inner` fails.

    `write()` returns what `inner.write()` returned, or, for a spooled batch, its size.
    History queries read `inner` only: readings still in the spool appear once replayed.
    """

    def __init__(
        self,
        inner: TelemetryStore,
        spool_dir: str | Path,
        max_bytes: int,
        *,
        replay_readings: int = 20_000,
        retry_initial_s: float = 0.25,
        retry_max_s: float = 2.0,
    ) -> None:
        self.inner = inner
        self.spool = Spool(spool_dir, max_bytes)
        self.replay_readings = replay_readings
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.replayed = 0
        self.last_error: str | None = None
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._replayer = threading.Thread(
            target=self._replay_loop, name="telemetry-replay", daemon=True
        )
        self._replayer.start()
        if self.spool.readings:
            log.warning(
                "telemetry spool %s holds %d readings from before; replaying them",
                self.spool.directory,
                self.spool.readings,
            )

    def write(self, readings: Sequence[Reading]) -> int:
        if not readings:
            return 0
        with self._write_lock:
            if self.spool.batches == 0:
                try:
                    return self.inner.write(readings)
                except TelemetryRejected as exc:
                    # Kept aside like a refused replay, so one refusal cannot stall ingest.
                    log.error(
                        "telemetry store refused %d readings for good (%s); kept in "
                        "%s, table rejected",
                        len(readings),
                        exc,
                        self.spool.directory,
                    )
                    self.spool.quarantine(readings, str(exc))
                    return 0
                except TelemetryError as exc:
                    self._note_failure(exc)
            # Behind anything already spooled, even if the store is back: order holds.
            self.spool.append(readings)
        self._wake.set()
        return len(readings)

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
        return self.inner.query(
            device_id=device_id, metric=metric, start=start, end=end, after=after, limit=limit
        )

    def count(self, device_id: str | None = None) -> int:
        return self.inner.count(device_id)

    def ping(self) -> None:
        self.inner.ping()

    def status(self) -> dict[str, Any]:
        """The spool's depth and history, for /health and the ingest statistics."""
        return {
            "readings": self.spool.readings,
            "batches": self.spool.batches,
            "bytes": self.spool.bytes,
            "max_bytes": self.spool.max_bytes,
            "oldest_age_s": self.spool.oldest_age_s(),
            "replayed": self.replayed,
            "rejected": self.spool.rejected_readings,
            "last_error": self.last_error,
        }

    def drained(self, timeout: float) -> bool:
        """Wait until the spool is empty (e.g. before a planned shutdown of the store)."""
        deadline = time.monotonic() + timeout
        while self.spool.batches and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.spool.batches == 0

    def close(self) -> None:
        """Stop replaying (what is left stays on disk for the next start), close both."""
        self._stop.set()
        self._wake.set()
        self._replayer.join(60)
        self.spool.close()
        self.inner.close()

    def _replay_loop(self) -> None:
        delay = self.retry_initial_s
        isolate = False  # after a refusal, replay one batch at a time to find the bad one
        while not self._stop.is_set():
            if self.spool.batches == 0:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            batches: list[SpooledBatch] = []
            try:
                batches = self.spool.head(1 if isolate else self.replay_readings)
                self.inner.write([r for batch in batches for r in batch.readings])
                self.spool.remove(batches)
            except TelemetryRejected as exc:
                if len(batches) > 1:
                    isolate = True
                    continue
                self._reject(batches, exc)
            except Exception as exc:  # the replayer must outlive any failure, and retry
                self._note_failure(exc)
                self._stop.wait(delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            else:
                self.replayed += sum(len(batch.readings) for batch in batches)
            delay = self.retry_initial_s
            isolate = False
            if self.spool.batches == 0:
                log.info("telemetry spool drained; writing straight to the store again")
                self.last_error = None

    def _reject(self, batches: list[SpooledBatch], exc: TelemetryError) -> None:
        count = sum(len(batch.readings) for batch in batches)
        log.error(
            "telemetry store refused %d readings for good (%s); kept in %s, table rejected",
            count,
            exc,
            self.spool.directory / "spool.db",
        )
        self.spool.reject(batches, str(exc))

    def _note_failure(self, exc: Exception) -> None:
        message = str(exc)
        if message != self.last_error:
            log.warning(
                "telemetry store failing (%s); spooling to %s", message, self.spool.directory
            )
        self.last_error = message


if TYPE_CHECKING:

    def _implements_protocol(store: SpooledTelemetryStore) -> TelemetryStore:
        return store
