"""Spike helper: a private RabbitMQ node (MQTT and consistent-hash plugins) on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from faultline.sockets import free_port


class RabbitNode:
    """rabbitmq-server with its own node name, ports, EPMD, cookie, data and logs."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.mqtt_port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.node = f"spike{self.port}@localhost"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "enabled_plugins").write_text(
            "[rabbitmq_mqtt,rabbitmq_consistent_hash_exchange].\n"
        )
        (workdir / "rabbitmq.conf").write_text(
            "\n".join(
                [
                    f"listeners.tcp.default = 127.0.0.1:{self.port}",
                    f"mqtt.listeners.tcp.default = 127.0.0.1:{self.mqtt_port}",
                    "mqtt.allow_anonymous = true",
                    "loopback_users = none",
                    "",
                ]
            )
        )
        home = workdir / "home"
        home.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "HOME": str(home),  # its own .erlang.cookie
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(workdir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq"),
            "RABBITMQ_PID_FILE": str(workdir / "rabbit.pid"),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in_s: float | None = None

    def start(self, timeout_s: float = 120.0) -> None:
        began = time.monotonic()
        # Debian's /usr/sbin wrapper switches to the rabbitmq user; the real script runs as us.
        binary = "/usr/lib/rabbitmq/bin/rabbitmq-server"
        self.process = subprocess.Popen(
            [binary],
            env=self.env,
            stdout=open(self.workdir / "stdout.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        waiting = [self.port, self.mqtt_port]
        while waiting and time.monotonic() < began + timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError((self.workdir / "stdout.log").read_text()[-3000:])
            try:
                with socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.2):
                    waiting.pop(0)
            except OSError:
                time.sleep(0.05)
        if waiting:
            raise RuntimeError(f"rabbitmq did not listen on {waiting} in {timeout_s}s")
        self.started_in_s = time.monotonic() - began

    def kill(self) -> None:
        """Stop the node and its EPMD (they are in one process group of our own)."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, 15)
                self.process.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, 9)
        for pid in _own_epmd(self.epmd_port):
            os.kill(pid, 15)
        self.process = None


def _own_epmd(port: int) -> list[int]:
    """The pid of the EPMD daemon this node started (`epmd -daemon` with our ERL_EPMD_PORT
    in its environment), and no other."""
    found = []
    mine = f"ERL_EPMD_PORT={port}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"epmd") and mine in environ:
            found.append(int(entry.name))
    return found
