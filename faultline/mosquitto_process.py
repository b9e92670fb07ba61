"""A Mosquitto broker of our own, on a free port, for benchmarks (tests have tests/mosquitto.py).

The config raises what the defaults would throttle or silently drop under load:
`max_queued_messages` (1,000 by default: past it QoS 1 messages are acknowledged and
dropped) and the in-flight window. Persistence is off: a benchmark measures the
publisher and the network path, not the broker's disk.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from faultline.sockets import free_port


class MosquittoError(RuntimeError):
    """Mosquitto is missing, or would not start."""


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None,
    )
    if found is None:
        raise MosquittoError(
            "mosquitto is not installed: run scripts/setup (apt-get install mosquitto)"
        )
    return found


class MosquittoProcess:
    """`mosquitto -c <config>` in `workdir`; `start()`, `stop()`, or use it as a context manager."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.binary = mosquitto_binary()
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous true",
                    "persistence false",
                    "max_queued_messages 0",
                    "max_queued_bytes 0",
                    "max_inflight_messages 0",
                    "message_size_limit 1048576",
                    f"log_dest file {workdir}/mosquitto.log",
                    "log_type error",
                    "log_type warning",
                    "",
                ]
            )
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout_s: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise MosquittoError(f"mosquitto exited at start: {err.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise MosquittoError(f"mosquitto did not listen on {self.port} within {timeout_s}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def __enter__(self) -> MosquittoProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
