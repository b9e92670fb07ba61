"""`faultline run` as one of several partitioned workers (FAULTLINE_SCALE_BACKEND=nats):
the same service, with ingest reading its share of the device partitions from JetStream
instead of the whole MQTT broker."""

from __future__ import annotations

from typing import Any

from faultline.partition_runner import PartitionParts
from faultline.partitioned_ingest import PartitionedIngest, default_worker_id
from faultline.service import Service, ServiceStartError
from faultline.settings import Settings
from ingest.nats_link import NatsLink, NatsLinkError
from ingest.partition_leases import PartitionLeases
from ingest.partition_log import PartitionLog


class PartitionCheckpoints:
    """Stands in for the single-process checkpointer: each partition saves its own."""

    def __init__(self, ingest: PartitionedIngest) -> None:
        self.ingest = ingest

    def save(self, _engine: object) -> bool:
        return True  # partitions were saved when they were handed back

    @property
    def saves(self) -> int:
        return sum(r.checkpoint.saves for r in self.ingest.runner_list())

    @property
    def failures(self) -> int:
        return sum(r.checkpoint.failures for r in self.ingest.runner_list())

    @property
    def restored_devices(self) -> int:
        return sum(r.restored_devices for r in self.ingest.runner_list())

    @property
    def last_error(self) -> str | None:
        errors = [r.checkpoint.last_error for r in self.ingest.runner_list()]
        return next((e for e in errors if e), None)


def make_service(settings: Settings) -> Service:
    """The service these settings ask for: partitioned, or the single-broker default."""
    if settings.scale_backend == "":
        return Service(settings)
    if settings.scale_backend == "nats":
        return PartitionedService(settings)
    raise ServiceStartError(
        f"FAULTLINE_SCALE_BACKEND={settings.scale_backend!r}: use 'nats' or leave it empty"
    )


class PartitionedService(Service):
    """A `Service` whose subscriber and ingest worker are one `PartitionedIngest`."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        s = self.settings
        worker_id = s.worker_id or default_worker_id()
        link = NatsLink(s.nats_url, name=f"faultline-{worker_id}")
        parts = PartitionParts(
            log=PartitionLog(
                link, prefix=s.mqtt_prefix, partitions=s.partitions, retention_s=s.scale_retention_s
            ),
            sessions=self.sessions,
            directory=self.directory,
            telemetry=self.telemetry,
            stats=self.stats,
            fieldservice=self.fieldservice.config,
            on_readings=self.fieldservice.observe,
            after_detection=self.fieldservice.after_detection,
            engine_settings={"fleet_model": self.pipeline.engine.fleet_model},
            prefix=s.mqtt_prefix,
            max_future_s=s.ingest_max_future_s,
            batch_size=s.ingest_batch_size,
            checkpoint_every_s=s.detection_checkpoint_s or float("inf"),
        )
        self.partitioned = PartitionedIngest(
            link=link,
            leases=PartitionLeases(link, worker_id=worker_id, ttl_s=s.partition_lease_s),
            parts=parts,
            partitions=s.partitions,
        )
        # Service starts, pauses and stops these; one object plays both parts.
        self.subscriber = self.partitioned  # type: ignore[assignment]
        self.worker = self.partitioned  # type: ignore[assignment]
        self.checkpointer = PartitionCheckpoints(self.partitioned)  # type: ignore[assignment]

    def start(self, *, http: bool = True) -> None:
        try:
            super().start(http=http)
        except NatsLinkError as exc:
            raise ServiceStartError(f"{exc} (is nats-server running? FAULTLINE_NATS_URL)") from exc

    def ingest_snapshot(self) -> dict[str, Any]:
        """The service's counters, plus which partitions this worker owns."""
        snapshot = super().ingest_snapshot()
        runners = self.partitioned.runner_list()
        snapshot["detector_resets"] = sum(r.pipeline.detector_resets for r in runners)
        snapshot["partitions"] = {
            "owned": sorted(r.partition for r in runners),
            "positions": {str(r.partition): r.position for r in runners},
            "rebalances": self.partitioned.rebalances,
            "lost": self.partitioned.lost,
        }
        return snapshot
