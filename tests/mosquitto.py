"""A throw-away Mosquitto broker on a free port, which tests can stop and restart."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from faultline.sockets import free_port

ADMIN_PASSWORD = "dynsec-admin-secret"


class Mosquitto:
    """`mosquitto -c <our config>`: persistence on, queues raised so QoS 1 is never dropped.

    `stock=True` keeps every limit at Mosquitto's defaults, as Debian's package ships it
    (`max_queued_messages 1000`, `max_inflight_messages 20`): what a new user runs.
    """

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        *,
        stock: bool = False,
        dynsec: bool = False,
        tls: tuple[Path, Path, Path] | None = None,
    ) -> None:
        """`dynsec=True`: the dynamic-security plugin on, administrator `admin` /
        `ADMIN_PASSWORD`, nobody anonymous. `tls=(ca, cert, key)`: a second listener on
        `tls_port` speaking MQTT over TLS."""
        binary = shutil.which("mosquitto") or next(
            (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
            None,
        )
        if binary is None:
            raise RuntimeError(
                "mosquitto is not installed: run scripts/setup (apt-get install mosquitto)"
            )
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.tls_port = free_port() if tls else None
        secured: list[str] = []
        if dynsec:
            secured = self._dynsec_lines(workdir)
        if tls:
            ca, cert, key = tls
            secured += [
                f"listener {self.tls_port} 127.0.0.1",
                f"cafile {ca}",
                f"certfile {cert}",
                f"keyfile {key}",
            ]
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            "\n".join(
                [
                    # Every listener shares the security settings below.
                    "per_listener_settings false",
                    f"listener {self.port} 127.0.0.1",
                    *secured,
                    f"allow_anonymous {'false' if dynsec else 'true'}",
                    # As root, mosquitto would drop to user "mosquitto", which cannot
                    # write its persistence file into our temporary directory.
                    *(["user root"] if os.geteuid() == 0 else []),
                    "persistence true",
                    f"persistence_location {workdir}/",
                    "autosave_interval 1",
                    *(
                        []
                        if stock
                        else [
                            "max_queued_messages 0",
                            "max_queued_bytes 0",
                            "max_inflight_messages 1000",
                            "message_size_limit 1048576",
                        ]
                    ),
                    f"log_dest file {workdir}/mosquitto.log",
                    "",
                ]
            )
        )

    def _dynsec_lines(self, workdir: Path) -> list[str]:
        plugin = next(iter(sorted(Path("/usr/lib").glob("*/mosquitto_dynamic_security.so"))), None)
        ctrl = shutil.which("mosquitto_ctrl")
        if plugin is None or ctrl is None:
            raise RuntimeError("mosquitto's dynamic-security plugin or mosquitto_ctrl is missing")
        state = workdir / "dynamic-security.json"
        state.unlink(missing_ok=True)
        subprocess.run(
            [ctrl, "dynsec", "init", str(state), "admin", ADMIN_PASSWORD],
            check=True,
            capture_output=True,
        )
        return [f"plugin {plugin}", f"plugin_opt_config_file {state}"]

    def url_as(self, username: str, password: str, *, tls: bool = False) -> str:
        if tls:
            return f"mqtts://{username}:{password}@localhost:{self.tls_port}"
        return f"mqtt://{username}:{password}@127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None
