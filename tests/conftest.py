"""Fixtures that start real parts: a Mosquitto broker of the test's own."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto

FAKETIME_SHIM = Path(__file__).parent / "faketime"


def _rerun_fit_for_faketime() -> None:
    """Under `faketime` run as scripts/test-at would: only the calendar clock faked, child
    processes carrying on from the parent's fake time (not each from the start time), and
    the sleep shim loaded in every process (else lock timeouts hang: see the shim)."""
    preloaded = "faketime" in os.environ.get("LD_PRELOAD", "")
    ready = (
        os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1"
        and os.environ.get("FAKETIME_DONT_RESET") == "1"
        and str(FAKETIME_SHIM) in os.environ.get("PYTHONPATH", "")
    )
    if preloaded and not ready:
        env = dict(os.environ, FAKETIME_DONT_FAKE_MONOTONIC="1", FAKETIME_DONT_RESET="1")
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(FAKETIME_SHIM), env.get("PYTHONPATH")])
        )
        os.execve(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[1:]], env)


_rerun_fit_for_faketime()


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
