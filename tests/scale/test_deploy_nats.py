"""deploy/nats-server.conf is a configuration the installed nats-server accepts, and its
mappings are the ones the workers and the tests' own servers use."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from faultline.nats_process import nats_binary, partition_mappings

CONF = Path(__file__).resolve().parents[2] / "deploy" / "nats-server.conf"


def test_the_deploy_config_is_valid_for_the_installed_nats_server() -> None:
    done = subprocess.run(
        [nats_binary(), "-t", "-c", str(CONF)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_deploy_config_partitions_exactly_like_the_workers_expect() -> None:
    deployed = set(re.findall(r'^\s*("devices\.\*\.\w+": "[^"]+")', CONF.read_text(), re.M))
    expected = {entry.strip() for entry in partition_mappings("devices", 16).split(", ")}
    assert deployed == expected
