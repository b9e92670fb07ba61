"""The command line fails safe and says why: a foreign --workdir is never wiped, a taken
port stops `run` and `demo`, a bad database path is one line, a configured token is never
printed, a wrong broker address is logged at every attempt, every option is explained."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from faultline.cli import build_parser
from faultline.settings import Settings
from faultline.sockets import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def faultline(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTLINE_")}
    return subprocess.run(
        [sys.executable, "-m", "faultline.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_demo_refuses_a_folder_it_did_not_make_and_leaves_it_alone(tmp_path: Path) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    result = faultline("demo", "--workdir", str(precious), "--exit-after", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert "not empty and was not made by `faultline demo`" in result.stderr
    assert (precious / "chapter1.tex").read_text() == "years of work"


class HoldsThePort:
    """Another program on the HTTP port, recording whatever connects to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.server.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.server.close()


@pytest.mark.parametrize("command", ["run", "demo"])
def test_a_taken_http_port_stops_the_start_with_a_clear_message(
    command: str, tmp_path: Path
) -> None:
    holder = HoldsThePort()
    try:
        extra = (
            ["--workdir", str(tmp_path / "demo"), "--exit-after", "5"] if command == "demo" else []
        )
        result = faultline(
            command,
            "--http-port",
            str(holder.port),
            "--mqtt-url",
            f"mqtt://127.0.0.1:{free_port()}",
            "--database-url",
            f"sqlite:///{tmp_path / 'f.db'}",
            "--telemetry-path",
            str(tmp_path / "t.db"),
            *extra,
            cwd=tmp_path,
        )
    finally:
        holder.close()
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot serve the API on 127.0.0.1:{holder.port}" in result.stderr
    assert holder.connections == 0, "the fleet was provisioned to whatever held the port"


def test_a_bad_database_path_is_one_line_naming_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/no/such/folder/faultline.db"
    result = faultline("run", "--database-url", url, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert url in result.stderr and "Traceback" not in result.stderr


def test_a_configured_token_is_never_printed_and_failed_broker_attempts_are_logged(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTLINE_")}
    env["FAULTLINE_ADMIN_TOKEN"] = "my-own-secret-token"
    broker_port = free_port()
    service = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faultline.cli",
            "run",
            "--http-port",
            str(free_port()),
            "--mqtt-url",
            f"mqtt://127.0.0.1:{broker_port}",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert service.stdout is not None
        for line in service.stdout:
            lines.append(line)
            if sum("cannot connect to the MQTT broker" in seen for seen in lines) >= 2:
                break
    finally:
        service.send_signal(signal.SIGTERM)
        rest = service.communicate(timeout=30)[0]
    output = "".join(lines) + rest
    assert "my-own-secret-token" not in output
    attempts = [line for line in lines if "cannot connect to the MQTT broker" in line]
    assert len(attempts) >= 2
    assert f"127.0.0.1:{broker_port}" in attempts[0] and "refused" in attempts[0].lower()
    assert service.returncode == 0


def _options(parser: argparse.ArgumentParser, path: str = "faultline") -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                missing += _options(sub, f"{path} {name}")
        elif action.option_strings and not action.help and action.dest != "help":
            missing.append(f"{path} {'/'.join(action.option_strings)}")
    return missing


def test_every_option_has_help_and_every_setting_is_in_the_readme(tmp_path: Path) -> None:
    assert _options(build_parser()) == []
    readme = README.read_text()
    undocumented = [
        f"FAULTLINE_{name.upper()}"
        for name in Settings.model_fields
        if f"FAULTLINE_{name.upper()}" not in readme
    ]
    assert undocumented == []
    version = faultline("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("faultline ")
