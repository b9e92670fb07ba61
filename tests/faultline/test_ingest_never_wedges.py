"""One bad reading never stops ingest: not for other devices, not across a restart; a
rebooted device's readings are kept; health says so when ingest is stuck."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from domain import Reading
from domain.wire import encode_reading
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.service_harness import (
    Device,
    api,
    provision_fridge,
    service_settings,
    start_service,
    wait_until,
)

METRICS = {"cabinet_temp_c": 4.0, "compressor_on": 1.0, "door_open": 0.0, "power_w": 95.0}


def reading(device_id: str, seq: int, ts: float) -> tuple[str, bytes]:
    topic = f"devices/{device_id}/telemetry"
    return topic, encode_reading(Reading(device_id, ts, seq, METRICS))


def test_a_seq_of_2_to_the_63_is_dead_lettered_and_never_wedges_ingest_across_restarts(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = service_settings(mosquitto, tmp_path)
    service = start_service(settings)
    device = Device(mosquitto)
    try:
        with api(service) as client:
            provision_fridge(client, "fridge-0001")
            provision_fridge(client, "fridge-0002")
        poison = json.dumps({"ts": SCENARIO_START + 30, "seq": 2**63, "metrics": METRICS})
        messages = [reading("fridge-0001", 1, SCENARIO_START)]
        messages.append(("devices/fridge-0001/telemetry", poison.encode()))
        messages += [
            reading(d, s, SCENARIO_START + 60 * s)
            for s in (2, 3)
            for d in ("fridge-0001", "fridge-0002")
        ]
        device.publish_many(messages)
        wait_until(lambda: service.telemetry.count() == 5, 20, "the good readings stored")
        wait_until(lambda: service.stats.snapshot()["batches"] >= 1, 10, "a batch acknowledged")
    finally:
        service.stop()
    # Restarted: nothing is redelivered for ever; new readings of both devices flow.
    service = start_service(settings)
    try:
        device.publish_many(
            [reading(d, 4, SCENARIO_START + 240) for d in ("fridge-0001", "fridge-0002")]
        )
        wait_until(lambda: service.telemetry.count() == 7, 20, "readings after the restart")
        with api(service) as client:
            letters = client.get("/api/v1/dead-letters").json()["items"]
            assert [(row["reason"], row["device_id"]) for row in letters] == [
                ("out_of_range", "fridge-0001")
            ]
            assert "2^63" in letters[0]["detail"]
            health = client.get("/health")
            assert health.status_code == 200, health.text
    finally:
        device.close()
        service.stop()


def test_a_rebooted_device_counting_from_one_again_is_stored_and_nothing_counts_as_lost(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    service = start_service(service_settings(mosquitto, tmp_path))
    device = Device(mosquitto)
    try:
        with api(service) as client:
            provision_fridge(client, "fridge-0001")
            first_run = [reading("fridge-0001", s, SCENARIO_START + 60 * s) for s in range(1, 101)]
            rebooted_at = SCENARIO_START + 60 * 101 + 30
            second_run = [reading("fridge-0001", s, rebooted_at + 60 * s) for s in range(1, 51)]
            device.publish_many(first_run + second_run + second_run[:5])  # and 5 redelivered
            wait_until(lambda: service.telemetry.count() == 150, 20, "both runs stored")
            stats = client.get("/api/v1/ingest/stats").json()
            assert stats["epochs"] == 1
            assert stats["duplicates"] == 5
            assert stats["missing_readings"] == 0
            assert stats["accepted"] == 150
            seqs = client.get(
                "/api/v1/devices/fridge-0001/telemetry", params={"limit": 1000}
            ).json()["items"]
            assert [r["seq"] for r in seqs] == list(range(1, 101)) + list(range(1, 51))
    finally:
        device.close()
        service.stop()


def test_health_says_ingest_is_stuck_while_the_database_is_locked_then_recovers(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    service = start_service(service_settings(mosquitto, tmp_path, health_max_pending_s=1.0))
    device = Device(mosquitto)
    try:
        with api(service) as client:
            provision_fridge(client, "fridge-0001")
            first = client.get("/health")
            assert first.status_code == 200, first.text
            # Another program holds the database: storing a dead letter fails, transiently.
            holder = sqlite3.connect(tmp_path / "faultline.db", isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
            device.publish_many(
                [
                    reading("fridge-0001", 1, SCENARIO_START),
                    reading("fridge-9999", 1, SCENARIO_START),  # unknown: a dead letter
                ]
            )

            def stuck() -> bool:
                checks = client.get("/health").json()["checks"]
                return not checks["ingest"]["ok"] and "stuck" in checks["ingest"]["detail"]

            wait_until(stuck, 30, "health to report ingest stuck")
            assert client.get("/health").status_code == 503
            holder.execute("ROLLBACK")
            holder.close()
            wait_until(lambda: client.get("/health").status_code == 200, 30, "health back")
            assert service.telemetry.count() == 1
            letters = client.get("/api/v1/dead-letters").json()["items"]
            assert [row["reason"] for row in letters] == ["unknown_device"]
            assert service.stats.snapshot()["unstorable"] == 0  # retried, never thrown away
    finally:
        device.close()
        service.stop()
