"""`faultline run` in a subprocess, configured by environment like a deployment, so a test
can SIGKILL it mid-batch and start it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from faultline.sockets import free_port
from tests.mosquitto import Mosquitto
from tests.service_harness import TOKEN


class ServiceProcess:
    """One service process; `settings` are FAULTLINE_* values without the prefix."""

    def __init__(self, workdir: Path, broker: Mosquitto, **settings: object) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        values: dict[str, object] = {
            "mqtt_url": broker.url,
            "database_url": f"sqlite:///{workdir / 'faultline.db'}",
            "telemetry_path": str(workdir / "telemetry.db"),
            "telemetry_spool_dir": str(workdir / "spool"),
            "http_port": self.port,
            "admin_token": TOKEN,
            "ingest_batch_age_s": 0.05,
        }
        values.update(settings)
        self.env = {
            name: value for name, value in os.environ.items() if not name.startswith("FAULTLINE_")
        }
        self.env.update({f"FAULTLINE_{k.upper()}": str(v) for k, v in values.items()})
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait until the API answers and the broker session is up."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        self.starts += 1
        log = open(self.workdir / f"service-{self.starts}.log", "wb")  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "faultline.cli", "run"],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"faultline run exited at start:\n{self.log_tail()}")
            try:
                _, body = self.health()
                if body["checks"]["broker"]["ok"]:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"faultline run did not come up within {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no flush, no acknowledgement, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM: the graceful stop `faultline run` does on Ctrl-C or a deploy."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def discard(self) -> None:
        """End of a test: nothing is checked after this, so do not wait for a clean stop."""
        if self.process is not None and self.process.poll() is None:
            self.kill()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )

    def health(self) -> tuple[int, dict[str, Any]]:
        response = httpx.get(f"{self.base_url}/health", timeout=5)
        return response.status_code, response.json()

    def stats(self) -> dict[str, Any]:
        with self.api() as client:
            response = client.get("/api/v1/ingest/stats")
            response.raise_for_status()
            return dict(response.json())

    def log_tail(self, chars: int = 4000) -> str:
        logs = sorted(self.workdir.glob("service-*.log"))
        return "\n".join(path.read_text(errors="replace")[-chars:] for path in logs)


def stored_seqs(service: ServiceProcess, device_id: str) -> list[int]:
    """Every stored reading's seq for one device, through the telemetry API, in order."""
    seqs: list[int] = []
    cursor = None
    with service.api() as client:
        while True:
            params: dict[str, str | int] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            response = client.get(f"/api/v1/devices/{device_id}/telemetry", params=params)
            response.raise_for_status()
            page = response.json()
            seqs += [item["seq"] for item in page["items"]]
            cursor = page["next"]
            if cursor is None:
                return seqs


def has_reading_at(service: ServiceProcess, device_id: str, ts: float) -> bool:
    """Whether the reading at `ts` is stored (a cheap probe before a full comparison)."""
    with service.api() as client:
        response = client.get(
            f"/api/v1/devices/{device_id}/telemetry", params={"start": ts, "limit": 1}
        )
        response.raise_for_status()
        return bool(response.json()["items"])


def open_tickets(service: ServiceProcess) -> list[dict[str, Any]]:
    with service.api() as client:
        response = client.get("/api/v1/tickets", params={"limit": 200})
        response.raise_for_status()
        return list(response.json()["items"])
