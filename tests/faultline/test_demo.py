"""`faultline demo` on its own (embedded broker, no other services): it prints a sign-in line
per role, each link opens to a page showing the demo's first ticket within two minutes, and
the simulated crew takes that job to resolved (the slow test follows it to the follow-up)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faultline.sockets import free_port

SIGN_IN_LINE = re.compile(r"^(console|technician (\S+)|customer (\S+)): (http\S+)$")
FIRST_TICKET_WITHIN_S = 120.0


class Demo:
    """The demo as a subprocess, its output collected line by line as it comes."""

    def __init__(self, workdir: Path, port: int, crew_pace: float, exit_after: float) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTLINE_")}
        self.port = port
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faultline.cli",
                "demo",
                "--workdir",
                str(workdir / "demo"),
                "--http-port",
                str(port),
                "--admin-token",
                "demo-token",
                "--exit-after",
                str(exit_after),
                "--crew-pace",
                str(crew_pace),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.started = time.monotonic()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines[-80:])

    def sign_in_lines(self, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {
                m.group(1): m.group(4) for line in self.lines if (m := SIGN_IN_LINE.match(line))
            }
            if len(found) == 3:
                return found
            assert self.process.poll() is None, self.output
            time.sleep(0.2)
        raise AssertionError(f"no three sign-in lines within {timeout} s:\n{self.output}")

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": "Bearer demo-token"},
            timeout=5,
        )

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self._reader.join(10)
        return self.process.returncode


@contextlib.contextmanager
def running_demo(tmp_path: Path, *, crew_pace: float, exit_after: float) -> Iterator[Demo]:
    demo = Demo(tmp_path, free_port(), crew_pace, exit_after)
    try:
        yield demo
    finally:
        if demo.process.poll() is None:
            assert demo.stop() == 0, demo.output


def _wait(demo: Demo, condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert demo.process.poll() is None, demo.output
        with contextlib.suppress(httpx.TransportError):
            if condition():  # type: ignore[operator]
                return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}:\n{demo.output}")


def test_each_printed_sign_in_link_opens_a_page_showing_the_first_ticket(tmp_path: Path) -> None:
    with running_demo(tmp_path, crew_pace=2.0, exit_after=150) as demo:
        lines = demo.sign_in_lines(timeout=60)
        technician = next(k for k in lines if k.startswith("technician "))
        customer = next(k for k in lines if k.startswith("customer "))
        pages = {
            # who: (their sign-in link, where it lands, what shows the first ticket there)
            "console": (lines["console"], "/", 'data-ticket-id="1"'),
            technician: (lines[technician], "/tech", 'data-ticket-id="1"'),
            customer: (lines[customer], "/my", 'href="/my/tickets/1"'),
        }
        browsers = {who: httpx.Client(timeout=5, follow_redirects=True) for who in pages}
        shown: set[str] = set()

        def every_page_shows_ticket_1() -> bool:
            for who, (link, home, marker) in pages.items():
                if who in shown:
                    continue
                browser = browsers[who]
                if "faultline_session" not in browser.cookies:
                    page = browser.get(link)  # the first visit signs in
                    assert page.status_code == 200, (who, page.status_code, page.text[:300])
                    assert page.url.path == home, (who, str(page.url))
                else:
                    page = browser.get(link.split("/signin")[0] + home)
                if marker in page.text:
                    shown.add(who)
            return len(shown) == len(pages)

        try:
            _wait(demo, every_page_shows_ticket_1, FIRST_TICKET_WITHIN_S, "ticket #1 on each page")
        finally:
            for browser in browsers.values():
                browser.close()
        assert time.monotonic() - demo.started < FIRST_TICKET_WITHIN_S

        with demo.api() as api:
            first = api.get("/api/v1/tickets/1").json()
            assert first["device_id"] == "fridge-0001"
            assert first["fault_code"] == "FRIDGE_COMPRESSOR_FAILURE"
            assert first["technician_id"] == technician.split()[1]
            assert (
                api.get("/api/v1/devices/fridge-0001").json()["customer_id"] == customer.split()[1]
            )

            def crew_resolved_it() -> bool:
                ticket = api.get("/api/v1/tickets/1").json()
                return ticket["status"] in ("resolved", "closed")

            _wait(demo, crew_resolved_it, 60, "the simulated technician to resolve ticket #1")
            timeline = api.get("/api/v1/tickets/1").json()["timeline"]
            moves = [
                (e["to_status"], e["actor"]) for e in timeline if e["kind"] == "status_changed"
            ]
            assert [m[0] for m in moves][:3] == ["en_route", "on_site", "resolved"]
            assert {actor for _, actor in moves[:3]} == {first["technician_id"]}
            alerts = api.get("/api/v1/alerts", params={"customer_id": customer.split()[1]}).json()
            assert {"fault_alert", "visit_booked", "en_route"} <= {
                a["kind"] for a in alerts["items"]
            }


@pytest.mark.slow
def test_the_demo_runs_the_whole_loop_to_closure_and_follow_up(tmp_path: Path) -> None:
    with running_demo(tmp_path, crew_pace=2.0, exit_after=280) as demo:
        lines = demo.sign_in_lines(timeout=60)
        customer = next(k for k in lines if k.startswith("customer ")).split()[1]
        with demo.api() as api:

            def followed_up() -> bool:
                alerts = api.get("/api/v1/alerts", params={"customer_id": customer}).json()
                return any(
                    a["kind"] == "follow_up" and a["status"] == "sent" for a in alerts["items"]
                )

            _wait(demo, followed_up, 240, "closure and the follow-up")
            ticket = api.get("/api/v1/tickets/1").json()
            assert ticket["status"] == "closed", ticket["timeline"]
            assert ticket["timeline"][-1]["actor"] == "telemetry"
