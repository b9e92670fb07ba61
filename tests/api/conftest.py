"""The API app on a real uvicorn server over a throw-away migrated SQLite database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.context import ApiContext
from faultline.sockets import free_port
from fieldservice.config import FieldServiceConfig
from storage.database import make_engine, make_session_factory, migrate
from storage.embedded_telemetry import EmbeddedTelemetryStore

TOKEN = "operator-t0ken"
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class LiveApi:
    """Where the server listens, and what it was built with."""

    host: str
    port: int
    sessions: sessionmaker[Session]
    telemetry: EmbeddedTelemetryStore

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def serving(app: FastAPI) -> Iterator[int]:
    """`app` on a real uvicorn server on a free local port, for the length of the block."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'faultline.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def live_api(engine: Engine, tmp_path: Path) -> Iterator[LiveApi]:
    sessions = make_session_factory(engine)
    telemetry = EmbeddedTelemetryStore(tmp_path / "telemetry.db")
    context = ApiContext(
        sessions=sessions,
        telemetry=telemetry,
        admin_token=TOKEN,
        health_checks=dict,
        ingest_stats=dict,
        fieldservice=FieldServiceConfig(),
        max_body_bytes=MAX_BODY_BYTES,
    )
    with serving(create_app(context)) as port:
        yield LiveApi("127.0.0.1", port, sessions, telemetry)
    telemetry.close()


@pytest.fixture
def client(live_api: LiveApi) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=live_api.base_url, headers=headers, timeout=10) as http:
        yield http
