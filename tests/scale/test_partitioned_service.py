"""`faultline run` in the partitioned mode, end to end from plain MQTT devices: a worker
that joins takes half the partitions with the detection state of their devices, a worker
that stops hands its partitions back at once, and nothing is stored twice or lost."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from faultline.commands import run_service
from faultline.nats_process import NatsServerProcess
from faultline.partitioned_service import PartitionedService, make_service
from faultline.service import Service, ServiceStartError
from faultline.settings import Settings
from faultline.sockets import free_port
from tests.clock import SCENARIO_START
from tests.service_harness import (
    TOKEN,
    Device,
    api,
    provision_fridge,
    reading_message,
    wait_until,
)

FRIDGES = [f"fridge-{n:04d}" for n in range(12)]


def _settings(server: NatsServerProcess, workdir: Path, worker: str) -> Settings:
    return Settings(
        scale_backend="nats",
        nats_url=server.url,
        mqtt_url=server.mqtt_url,
        database_url=f"sqlite:///{workdir / 'faultline.db'}",
        telemetry_path=str(workdir / "telemetry.db"),
        http_port=free_port(),
        admin_token=TOKEN,
        worker_id=worker,
        partition_lease_s=2.0,
        fieldservice_enabled=False,
    )


@pytest.fixture
def workers(nats_server: NatsServerProcess, tmp_path: Path) -> Iterator[list[PartitionedService]]:
    started: list[PartitionedService] = []
    yield started
    for service in started:
        service.stop()


def _start(server: NatsServerProcess, workdir: Path, name: str) -> PartitionedService:
    service = make_service(_settings(server, workdir, name))
    assert isinstance(service, PartitionedService)
    service.start()
    assert service.subscriber.wait_connected(10)
    return service


def _publish(device: Device, first: int, last: int) -> None:
    device.publish_many(
        reading_message(fridge, n, SCENARIO_START + 60.0 * n)
        for n in range(first, last + 1)
        for fridge in FRIDGES
    )


def _owned(service: PartitionedService) -> list[int]:
    return service.partitioned.owned


def test_a_joining_worker_takes_half_with_their_state_and_a_leaving_one_hands_back(
    nats_server: NatsServerProcess, tmp_path: Path, workers: list[PartitionedService]
) -> None:
    a = _start(nats_server, tmp_path, "a")
    workers.append(a)
    with api(a) as client:
        for fridge in FRIDGES:
            provision_fridge(client, fridge)
    wait_until(lambda: len(_owned(a)) == 16, 10, "a lone worker to own every partition")
    mqtt_listener = SimpleNamespace(port=nats_server.mqtt_port)  # devices speak MQTT to it
    device = Device(mqtt_listener, "fleet")  # type: ignore[arg-type]
    try:
        _publish(device, 1, 30)
        wait_until(lambda: a.telemetry.count() == 30 * len(FRIDGES), 20, "the first readings")

        b = _start(nats_server, tmp_path, "b")
        workers.append(b)
        wait_until(lambda: len(_owned(a)) == len(_owned(b)) == 8, 20, "the partitions to be split")
        assert set(_owned(a)).isdisjoint(_owned(b))
        taken = b.partitioned.runner_list()
        restored = sum(r.restored_devices for r in taken)
        devices_of_b = {d for r in taken for d in r.pipeline.engine.state()["devices"]}
        assert restored == len(devices_of_b) > 0, "B must start from A's checkpoints"
        for runner in taken:  # A handed each over at the position it had reached
            assert runner.position == 0 or runner.restored_devices > 0

        _publish(device, 31, 40)
        wait_until(lambda: a.telemetry.count() == 40 * len(FRIDGES), 20, "the later readings")
        for runner in b.partitioned.runner_list():
            for state in runner.pipeline.engine.state()["devices"].values():
                assert state["last_ts"] == SCENARIO_START + 60.0 * 40

        a.stop()
        workers.remove(a)
        wait_until(lambda: len(_owned(b)) == 16, 3, "B to take A's partitions at once")
        _publish(device, 41, 45)
        wait_until(lambda: b.telemetry.count() == 45 * len(FRIDGES), 20, "the last readings")
        devices = {
            d for r in b.partitioned.runner_list() for d in r.pipeline.engine.state()["devices"]
        }
        assert devices == set(FRIDGES)
        with api(b) as client:
            stats = client.get("/api/v1/ingest/stats").json()
        assert stats["partitions"]["owned"] == list(range(16))
        assert stats["partitions"]["lost"] == 0
    finally:
        device.close()


def test_an_unknown_backend_is_refused_with_the_setting_to_change(tmp_path: Path) -> None:
    settings = Settings(
        scale_backend="kafka",
        database_url=f"sqlite:///{tmp_path / 'f.db'}",
        telemetry_path=str(tmp_path / "t.db"),
    )
    with pytest.raises(ServiceStartError, match="FAULTLINE_SCALE_BACKEND"):
        make_service(settings)
    assert type(make_service(settings.model_copy(update={"scale_backend": ""}))) is Service


def test_run_without_a_nats_server_stops_with_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    settings = Settings(
        scale_backend="nats",
        nats_url=f"nats://127.0.0.1:{port}",
        database_url=f"sqlite:///{tmp_path / 'f.db'}",
        telemetry_path=str(tmp_path / "t.db"),
        http_port=free_port(),
        admin_token=TOKEN,
        fieldservice_enabled=False,
    )
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert run_service(settings) == 2
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    error = capsys.readouterr().err
    assert f"nats://127.0.0.1:{port}" in error and "FAULTLINE_NATS_URL" in error
    assert error.count("\n") == 1, error
