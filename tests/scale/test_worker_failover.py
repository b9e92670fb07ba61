"""Two partitioned workers, one SIGKILLed mid-stream: every reading is stored exactly once,
detection carries on from the partition checkpoints (the same anomalies as one worker that
was never interrupted, on the same stream), and no fault ever has two open tickets.

The stream is a simulated fleet's fridges (24 h from the fixed scenario start); its four
anomalies are at 7.4 h, 11.6 h, 15.4 h and 15.9 h of event time, and worker A is killed
once the readings up to 13.5 h are most of the way in: two anomalies before the kill,
two after (those need what the detectors learned before it).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.js.api import ConsumerInfo

from domain import DeviceInfo, Reading
from domain.wire import encode_reading
from faultline.eval_fleet import simulate
from faultline.nats_process import NatsServerProcess
from faultline.partitioned_service import make_service
from faultline.settings import Settings
from storage import devices
from storage.database import make_engine, make_session_factory, migrate
from tests.clock import SCENARIO_START
from tests.outage.service_process import ServiceProcess
from tests.service_harness import wait_until

KILL_AT_S = 13.5 * 3600.0


@dataclass(frozen=True)
class Stream:
    readings: list[Reading]
    infos: list[DeviceInfo]


@pytest.fixture(scope="module")
def stream() -> Stream:
    run = simulate(devices=24, days=1.0, seed=7, start_ts=SCENARIO_START)
    fridges = [d for d in run.fleet.devices if d.type.value == "fridge"]
    ids = {d.device_id for d in fridges}
    readings = [r for r in run.readings if r.device_id in ids]
    return Stream(readings, list(fridges))


class WorkerProcess(ServiceProcess):
    """`faultline run` as a partitioned worker, or its settings for one in this process."""

    def settings(self) -> Settings:
        values = {
            k.removeprefix("FAULTLINE_").lower(): v
            for k, v in self.env.items()
            if k.startswith("FAULTLINE_")
        }
        return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Site:
    """A nats-server and the shared stores of the workers that read it."""

    nats: NatsServerProcess
    workdir: Path

    @property
    def database(self) -> Path:
        return self.workdir / "faultline.db"

    @property
    def telemetry(self) -> Path:
        return self.workdir / "telemetry.db"

    def worker(self, name: str) -> WorkerProcess:
        return WorkerProcess(
            self.workdir / name,
            self.nats,  # type: ignore[arg-type]  # only its url is read; mqtt_url is set below
            mqtt_url=self.nats.mqtt_url,
            scale_backend="nats",
            nats_url=self.nats.url,
            database_url=f"sqlite:///{self.database}",
            telemetry_path=str(self.telemetry),
            worker_id=name,
            partition_lease_s=2.0,
            detection_checkpoint_s=0.5,
            fieldservice_enabled="false",
            ingest_batch_size=500,
        )

    def stored(self) -> int:
        with sqlite3.connect(f"file:{self.telemetry}?mode=ro", uri=True, timeout=30) as db:
            try:
                return int(db.execute("SELECT count(*) FROM readings").fetchone()[0])
            except sqlite3.OperationalError:
                return 0  # not created yet

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30) as db:
            return list(db.execute(sql).fetchall())

    def publish(self, readings: list[Reading]) -> None:
        """Publish as the MQTT gateway does (subject devices.{id}.telemetry): the server's
        mapping partitions them; faster than MQTT for a test this size."""
        asyncio.run(_publish(self.nats.url, readings))

    def consumers(self) -> list[ConsumerInfo]:
        return asyncio.run(_consumers(self.nats.url))

    def drained(self, expected: int) -> bool:
        """Everything stored, and every partition read and acknowledged to its end."""
        if self.stored() < expected:
            return False
        infos = self.consumers()
        return len(infos) == 16 and all(
            i.num_pending == 0 and i.num_ack_pending == 0 for i in infos
        )


async def _publish(url: str, readings: list[Reading]) -> None:
    client = await nats.connect(url)
    for reading in readings:
        await client.publish(f"devices.{reading.device_id}.telemetry", encode_reading(reading))
    await client.flush()
    await client.close()


async def _consumers(url: str) -> list[ConsumerInfo]:
    client = await nats.connect(url)
    try:
        return await client.jetstream().consumers_info("FAULTLINE")
    finally:
        await client.close()


SiteFactory = Callable[[str], tuple[Site, list[WorkerProcess]]]


@pytest.fixture
def site_factory(tmp_path: Path, stream: Stream) -> Iterator[SiteFactory]:
    made: list[tuple[NatsServerProcess, list[WorkerProcess]]] = []

    def make(name: str) -> tuple[Site, list[WorkerProcess]]:
        server = NatsServerProcess(tmp_path / name / "nats", partitions=16)
        server.start()
        site = Site(server, tmp_path / name)
        db = make_engine(f"sqlite:///{site.database}")
        migrate(db)
        with make_session_factory(db).begin() as session:
            for info in stream.infos:
                devices.create(session=session, device_in=info)
        db.dispose()
        workers: list[WorkerProcess] = []
        made.append((server, workers))
        return site, workers

    yield make
    for server, workers in made:
        for worker in workers:
            worker.discard()
        server.stop()


def _anomalies(site: Site) -> list[tuple[object, ...]]:
    return sorted(site.rows("SELECT device_id, fault_code, detected_at, onset_at FROM anomalies"))


def _owned(worker: WorkerProcess) -> list[int]:
    return list(worker.stats()["partitions"]["owned"])


def test_a_killed_worker_loses_and_doubles_nothing_and_detection_carries_on(
    site_factory: SiteFactory, stream: Stream
) -> None:
    make = site_factory
    readings = stream.readings
    total = len(readings)
    before_kill = [r for r in readings if r.ts < SCENARIO_START + KILL_AT_S]
    after_kill = readings[len(before_kill) :]

    site, workers = make("pair")
    a, b = site.worker("a"), site.worker("b")
    workers += [a, b]
    for worker in (a, b):  # start together: each takes seconds to import
        worker.launch()

    # Meanwhile, one worker (in this process), never interrupted: what detection should find.
    alone_site, _ = make("alone")
    alone = make_service(alone_site.worker("solo").settings())
    alone.start(http=False)
    try:
        alone_site.publish(readings)
        wait_until(lambda: alone_site.drained(total), 120, "the single worker to drain the stream")
    finally:
        alone.stop()
    expected = _anomalies(alone_site)
    for worker in (a, b):
        worker.wait_ready(90)
    assert len(expected) >= 4, f"the stream should raise its four anomalies: {expected}"

    # Two workers; A is SIGKILLed while the first part of the stream is going in.
    wait_until(
        lambda: len(_owned(a)) == len(_owned(b)) == 8, 30, "the workers to split the partitions"
    )
    site.publish(before_kill)
    wait_until(lambda: site.stored() >= 0.8 * len(before_kill), 60, "most of the first part stored")
    a_partitions = _owned(a)
    a.kill()
    site.publish(after_kill)
    wait_until(lambda: len(_owned(b)) == 16, 30, "B to take over A's partitions")
    wait_until(lambda: site.drained(total), 120, "B to drain the stream")

    stats = b.stats()
    assert stats["detection_checkpoint"]["restored_devices"] > 0, (
        f"B resumed A's partitions {a_partitions} without their checkpoints"
    )
    # Every reading stored exactly once (the store is keyed on device, ts, seq).
    assert site.stored() == total
    # The same anomalies, each once, as the uninterrupted worker.
    found = _anomalies(site)
    assert found == expected
    # Never two open tickets for one fault.
    doubled = site.rows(
        "SELECT device_id, fault_code, count(*) FROM tickets "
        "WHERE status NOT IN ('closed', 'cancelled', 'auto_resolved') "
        "GROUP BY device_id, fault_code HAVING count(*) > 1"
    )
    assert doubled == []
    assert sorted(site.rows("SELECT device_id, fault_code FROM tickets")) == sorted(
        alone_site.rows("SELECT device_id, fault_code FROM tickets")
    )
