"""A nats-server of our own (JetStream, an MQTT listener, device-partition mapping) on free
ports, for tests and benchmarks of the partitioned mode.

The mapping is the one `deploy/nats-server.conf` ships: every device topic
`{prefix}/{id}/{channel}` (NATS subject `{prefix}.{id}.{channel}`) is rewritten to
`part.{p}.{prefix}.{id}.{channel}`, with `p` a hash of the device id alone, so a device's
telemetry, events and status land in one partition, in order.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from faultline.sockets import free_port
from ingest.partition_log import PARTITION_ROOT, UPLINK_CHANNELS


class NatsServerError(RuntimeError):
    """nats-server is missing, or would not start."""


def nats_binary() -> str:
    found = shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if Path(p).exists()), None
    )
    if found is None:
        raise NatsServerError(
            "nats-server is not installed: run scripts/setup (apt-get install nats-server)"
        )
    return found


def partition_mappings(prefix: str, partitions: int) -> str:
    """The server-config `mappings` entries that partition what devices send by device id
    (commands to devices are left alone, so devices still receive them over MQTT)."""
    return ", ".join(
        f'"{prefix}.*.{channel}": "{PARTITION_ROOT}.{{{{partition({partitions},1)}}}}.{prefix}.'
        f'{{{{wildcard(1)}}}}.{channel}"'
        for channel in UPLINK_CHANNELS
    )


def server_config(
    *,
    port: int,
    mqtt_port: int,
    store_dir: Path,
    prefix: str = "devices",
    partitions: int = 16,
    name: str = "faultline",
) -> str:
    """A single-node configuration: NATS on `port`, MQTT 3.1.1 on `mqtt_port`."""
    return "\n".join(
        [
            f"server_name: {name}",
            f"listen: 127.0.0.1:{port}",
            f'jetstream {{ store_dir: "{store_dir}" }}',
            f"mqtt {{ listen: 127.0.0.1:{mqtt_port} }}",
            f"mappings = {{ {partition_mappings(prefix, partitions)} }}",
            "",
        ]
    )


class NatsServerProcess:
    """`nats-server -c <config>` in `workdir`; `start()`, `stop()`, `kill()`, or a context."""

    def __init__(
        self,
        workdir: Path,
        *,
        prefix: str = "devices",
        partitions: int = 16,
        port: int | None = None,
        mqtt_port: int | None = None,
    ) -> None:
        self.binary = nats_binary()
        self.workdir = workdir
        self.prefix = prefix
        self.partitions = partitions
        self._fixed_ports = port is not None or mqtt_port is not None
        self.port = port or free_port()
        self.mqtt_port = mqtt_port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "nats-server.conf"
        self._write_config()
        self.log_path = workdir / "nats-server.log"
        self.started_in_s: float | None = None

    def _write_config(self) -> None:
        self.config.write_text(
            server_config(
                port=self.port,
                mqtt_port=self.mqtt_port,
                store_dir=self.workdir / "jetstream",
                prefix=self.prefix,
                partitions=self.partitions,
            )
        )

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout_s: float = 20.0) -> None:
        """Start and wait until both listeners accept connections. A free port taken by
        another program in the meantime is replaced and the start tried again."""
        for _attempt in range(3):
            try:
                self._start(timeout_s)
                return
            except NatsServerError as exc:
                if self._fixed_ports or "address already in use" not in str(exc):
                    raise
                self.port, self.mqtt_port = free_port(), free_port()
                self._write_config()
        self._start(timeout_s)

    def _start(self, timeout_s: float) -> None:
        began = time.monotonic()
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config), "-l", str(self.log_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = began + timeout_s
        waiting = [self.port, self.mqtt_port]
        while waiting and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NatsServerError(f"nats-server exited at start: {self.log[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.2):
                    waiting.pop(0)
            except OSError:
                time.sleep(0.01)
        if waiting:
            self.stop()
            raise NatsServerError(f"nats-server did not listen on {waiting} within {timeout_s}s")
        self.started_in_s = time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL: what a crash looks like (JetStream recovers its files at the next start)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def __enter__(self) -> NatsServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
