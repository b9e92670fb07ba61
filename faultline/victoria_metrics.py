"""A throw-away VictoriaMetrics on a free port: a real server for InfluxDB's write protocol.

InfluxDB 2.x is not packaged for Debian; VictoriaMetrics is (`apt-get install
victoria-metrics`) and accepts the same `/api/v2/write` line protocol, gzip included.
The benchmark and the tests write to it with the InfluxDB store and read the points back
through its export API. `dedup=True` keeps one sample per series and millisecond, which is
InfluxDB's "same series and timestamp = one point" rule; without it every rewrite shows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from faultline.sockets import free_port


def victoria_metrics_binary() -> str | None:
    return shutil.which("victoria-metrics") or next(
        (p for p in ("/usr/bin/victoria-metrics",) if Path(p).exists()), None
    )


class VictoriaMetrics:
    """`victoria-metrics` storing in `workdir`; `start()`/`stop()` may repeat (same data)."""

    def __init__(self, workdir: Path, *, dedup: bool = False, port: int | None = None) -> None:
        binary = victoria_metrics_binary()
        if binary is None:
            raise RuntimeError(
                "victoria-metrics is not installed: run scripts/setup "
                "(apt-get install victoria-metrics)"
            )
        self.binary = binary
        self.workdir = workdir
        self.dedup = dedup
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        args = [
            self.binary,
            f"-httpListenAddr=127.0.0.1:{self.port}",
            f"-storageDataPath={self.workdir / 'data'}",
            "-retentionPeriod=100y",  # readings of any age, as replayed fleets have
            "-loggerLevel=ERROR",
            "-search.disableCache",
        ]
        if self.dedup:
            args.append("-dedup.minScrapeInterval=1ms")
        log = open(self.workdir / "victoria-metrics.log", "ab")  # noqa: SIM115
        try:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.workdir / "victoria-metrics.log").read_text()[-2000:]
                raise RuntimeError(f"victoria-metrics exited at start: {tail}")
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"victoria-metrics did not answer on {self.port} within {timeout}s")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(30)
        self.process = None

    def export(self, selector: str) -> Iterator[dict[str, Any]]:
        """Every series `selector` matches, with all its samples (`/api/v1/export`).

        Samples written within the last second become visible after a flush.
        """
        httpx.get(f"{self.url}/internal/force_flush", timeout=30).raise_for_status()
        response = httpx.post(f"{self.url}/api/v1/export", data={"match[]": selector}, timeout=30)
        response.raise_for_status()
        for line in response.text.splitlines():
            if line.strip():
                yield json.loads(line)
