"""Fixtures for the partitioned mode: a nats-server of the test's own (JetStream, MQTT,
the device-partition mapping) on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from faultline.nats_process import NatsServerProcess


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServerProcess]:
    server = NatsServerProcess(tmp_path / "nats", partitions=16)
    server.start()
    yield server
    server.stop()
