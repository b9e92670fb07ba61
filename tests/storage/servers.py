"""Throw-away database servers for tests: PostgreSQL (initdb + pg_ctl) and VictoriaMetrics.

`PostgresServer` runs Debian's binaries (/usr/lib/postgresql/*/bin) on a free port with
a data folder of its own, as the `postgres` user when the tests run as root (PostgreSQL
refuses to run as root). It never touches a server that is already running.
`FAULTLINE_TEST_POSTGRES_URL` points the fixtures at a server of your own instead; each
test still gets a fresh database on it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from faultline.sockets import free_port
from faultline.victoria_metrics import VictoriaMetrics, victoria_metrics_binary

__all__ = [
    "PostgresServer",
    "VictoriaMetrics",
    "postgres_binaries",
    "postgres_server_url",
    "postgres_url",
    "victoria_metrics",
    "victoria_metrics_binary",
]

ENV_URL = "FAULTLINE_TEST_POSTGRES_URL"


def postgres_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps them off PATH)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """A PostgreSQL cluster in a temp folder of its own; `start()`/`stop()` may repeat."""

    def __init__(self, port: int | None = None) -> None:
        bin_dir = postgres_binaries()
        if bin_dir is None:
            raise RuntimeError(
                "PostgreSQL is not installed: run scripts/setup (apt-get install postgresql) "
                f"or set {ENV_URL}"
            )
        self.bin_dir = bin_dir
        self.port = port or free_port()
        # Not under pytest's tmp_path: that sits in a folder only root may enter.
        self.root = Path(tempfile.mkdtemp(prefix="faultline-pg-"))
        self.datadir = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._initialised = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if not self._initialised:
            self._run(
                "initdb", "-D", str(self.datadir), "-A", "trust", "-U", "postgres",
                "-E", "UTF8", "--no-sync",
            )  # fmt: skip
            self._initialised = True
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.root / "log"),
            "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `mode="immediate"` is a crash (no checkpoint, clients cut)."""
        if (self.datadir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "30", "stop")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr or done.stdout}\n"
                f"{self.log_tail()}"
            )


def _admin_dsn(url: str) -> str:
    """A libpq connection string for a SQLAlchemy URL (psycopg takes no driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: str) -> str:
    """A fresh, empty database on the server at `server_url`; returns its URL."""
    name = f"faultline_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    server = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(_admin_dsn(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server for the session: `FAULTLINE_TEST_POSTGRES_URL`, or our own."""
    configured = os.environ.get(ENV_URL)
    if configured:
        url = make_url(configured)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        yield url.render_as_string(hide_password=False)
        return
    server = PostgresServer()
    server.start()
    try:
        yield server.url()
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    url = create_database(postgres_server_url)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def victoria_metrics(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """A VictoriaMetrics of the test's own, keeping one point per series and timestamp
    like InfluxDB does."""
    server = VictoriaMetrics(tmp_path / "victoria-metrics", dedup=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()
