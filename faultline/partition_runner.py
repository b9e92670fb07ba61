"""One partition this worker owns: its own detection engine (resumed from the partition's
checkpoint), validation, the shared store pipeline, and its place in the log.

A batch goes the same way as in the single-broker mode (`IngestWorker.deliver`: validate,
store and detect through `Pipeline`, dead-letter what cannot be stored, acknowledge),
then the checkpoint is saved when `every_s` has passed or the batch raised an anomaly:
a takeover then never records that anomaly a second time, bar a crash in the few
milliseconds between the anomaly's commit and the checkpoint's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from detection.engine import DetectionEngine
from domain import Reading
from faultline.device_catalog import CatalogWatch
from faultline.directory import DeviceDirectory
from faultline.failures import is_transient
from faultline.partition_checkpoint import PartitionCheckpoint
from faultline.pipeline import Pipeline
from fieldservice.config import FieldServiceConfig
from ingest.inbox import Inbox
from ingest.messages import RawMessage
from ingest.partition_log import PartitionLog
from ingest.stats import IngestStats
from ingest.validation import Validator
from ingest.worker import IngestWorker
from storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionParts:
    """What every partition of a worker shares: stores, settings, the log."""

    log: PartitionLog
    sessions: sessionmaker[Session]
    directory: DeviceDirectory
    telemetry: TelemetryStore
    stats: IngestStats
    fieldservice: FieldServiceConfig
    on_readings: Callable[[Sequence[Reading]], None] | None
    after_detection: Callable[[Sequence[Reading], DetectionEngine], None] | None
    engine_settings: dict[str, Any]
    prefix: str
    max_future_s: float
    batch_size: int
    checkpoint_every_s: float


class PartitionRunner:
    """Opens `partition` at its checkpoint; `handle(raws)` per fetched batch; `close()`."""

    def __init__(
        self,
        partition: int,
        parts: PartitionParts,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.partition = partition
        self.parts = parts
        self.clock = clock
        self.checkpoint = PartitionCheckpoint(parts.sessions, partition=partition)
        engine, self.position = self.checkpoint.restore(**parts.engine_settings)
        self.restored_devices = engine.device_count
        self.pipeline = Pipeline(
            telemetry=parts.telemetry,
            sessions=parts.sessions,
            directory=parts.directory,
            engine=engine,
            fieldservice=parts.fieldservice,
            on_readings=parts.on_readings,
            after_detection=parts.after_detection,
            catalog=CatalogWatch(parts.sessions),
        )
        self._acked: int | None = None
        self.worker = IngestWorker(
            inbox=Inbox(1),  # unused: batches come from `handle`
            validator=Validator(
                lookup=parts.directory.lookup,
                stats=parts.stats,
                prefix=parts.prefix,
                max_future_s=parts.max_future_s,
            ),
            sink=self.pipeline,
            ack=self._ack,
            stats=parts.stats,
            batch_size=parts.batch_size,
            is_transient=is_transient,
        )
        self._saved_at = clock()
        self._saved_position = self.position
        first = parts.log.first_sequence()
        if self.position + 1 < first:
            log.warning(
                "partition %d: its checkpoint is at %d but the stream keeps only from %d: "
                "readings in between were dropped by retention (FAULTLINE_SCALE_RETENTION_S)",
                partition,
                self.position,
                first,
            )
        parts.log.open(partition, after=self.position)
        log.info("partition %d taken, reading after position %d", partition, self.position)

    def handle(self, raws: list[RawMessage]) -> bool:
        """Store, detect and acknowledge one batch of this partition; True when done (False:
        told to stop first; the log gives the batch to whoever reads next)."""
        anomalies = self.pipeline.anomalies_seen
        self._acked = None
        self.worker.deliver(raws)
        if self._acked is None:
            return False
        self.position = self._acked
        found = self.pipeline.anomalies_seen != anomalies
        if found or self.clock() - self._saved_at >= self.parts.checkpoint_every_s:
            self.save()
        return True

    def save(self) -> bool:
        """Checkpoint now (if anything moved since the last one)."""
        self._saved_at = self.clock()
        if self.position == self._saved_position:
            return True
        saved = self.checkpoint.save(self.pipeline.engine, self.position)
        if saved:
            self._saved_position = self.position
        return saved

    def close(self, *, save: bool) -> None:
        """Stop reading; `save=False` when the partition was lost (another owner's now)."""
        self.worker.stop()
        if save:
            self.save()
        self.parts.log.close(self.partition)

    def _ack(self, raws: Sequence[RawMessage]) -> None:
        self.parts.log.ack(self.partition)
        self._acked = raws[-1].mid
