"""Outage tests: real servers (Mosquitto, PostgreSQL, VictoriaMetrics) that the tests
stop, kill and restart around a `faultline run` subprocess."""

from __future__ import annotations

from tests.storage.servers import (  # noqa: F401 - fixtures
    postgres_server_url,
    postgres_url,
    victoria_metrics,
)
