"""`faultline demo` on its own (embedded broker, no other services) shows a ticket within 60 s."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from faultline.sockets import free_port


def test_demo_shows_a_compressor_ticket_within_a_minute(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTLINE_")}
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faultline.cli",
            "demo",
            "--workdir",
            str(tmp_path / "demo"),
            "--http-port",
            str(port),
            "--admin-token",
            "demo-token",
            "--exit-after",
            "90",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    started = time.monotonic()
    tickets: list[dict[str, object]] = []
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": "Bearer demo-token"},
            timeout=5,
        ) as client:
            while time.monotonic() - started < 60 and not tickets:
                assert demo.poll() is None, demo.stdout.read().decode() if demo.stdout else ""
                with contextlib.suppress(httpx.TransportError):  # the API is still starting
                    tickets = client.get("/api/v1/tickets").json()["items"]
                time.sleep(0.5)
    finally:
        demo.send_signal(signal.SIGTERM)
        output = demo.communicate(timeout=60)[0].decode()
    assert tickets, f"no ticket within 60 s; demo printed:\n{output[-3000:]}"
    assert tickets[0]["device_id"] == "fridge-0001"
    assert tickets[0]["fault_code"] == "FRIDGE_COMPRESSOR_FAILURE"
    assert demo.returncode == 0, output[-3000:]
