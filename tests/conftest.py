"""Fixtures that start real parts: a Mosquitto broker of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def stock_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto with Debian's default limits (queue 1000, 20 in flight)."""
    broker = Mosquitto(tmp_path / "mosquitto-stock", stock=True)
    broker.start()
    yield broker
    broker.stop()
