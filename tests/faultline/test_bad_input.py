"""Bad input between good readings: every good reading stored, every bad one dead-lettered."""

from __future__ import annotations

import json
import time
from pathlib import Path

from domain import Reading
from domain.wire import RejectReason, encode_reading
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

TOPIC = "devices/fridge-0001/telemetry"


def good(seq: int, now: float) -> tuple[str, bytes]:
    metrics = {"cabinet_temp_c": 4.0, "compressor_on": 1.0, "door_open": 0.0, "power_w": 95.0}
    return TOPIC, encode_reading(Reading("fridge-0001", now - 3600 + seq * 60, seq, metrics))


def bad_messages(now: float) -> dict[RejectReason, tuple[str, bytes]]:
    ok_metrics = {"cabinet_temp_c": 4.0}

    def body(**fields: object) -> bytes:
        return json.dumps(fields).encode()

    return {
        RejectReason.BAD_JSON: (TOPIC, b'{"ts": 17640, "seq": '),
        RejectReason.MISSING_FIELDS: (TOPIC, body(ts=now, seq=900)),
        RejectReason.BAD_SCHEMA: (TOPIC, body(ts=now, seq="nine", metrics=ok_metrics)),
        RejectReason.NON_FINITE: (
            TOPIC,
            b'{"ts": %d, "seq": 901, "metrics": {"cabinet_temp_c": NaN}}' % now,
        ),
        # A day ahead of the wall clock, whatever date the test runs at.
        RejectReason.FUTURE_TIMESTAMP: (
            TOPIC,
            body(ts=time.time() + 86400, seq=902, metrics=ok_metrics),
        ),
        RejectReason.OUT_OF_RANGE: (TOPIC, body(ts=now, seq=2**63, metrics=ok_metrics)),
        RejectReason.UNKNOWN_DEVICE: (
            "devices/fridge-9999/telemetry",
            body(ts=now, seq=1, metrics=ok_metrics),
        ),
        RejectReason.DEVICE_MISMATCH: (
            TOPIC,
            body(ts=now, seq=903, metrics=ok_metrics, device_id="fridge-0002"),
        ),
        RejectReason.OVERSIZE: (TOPIC, body(ts=now, seq=904, metrics=ok_metrics, pad="x" * 40_000)),
    }


def test_every_reason_is_dead_lettered_and_every_good_reading_kept(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    service = start_service(service_settings(mosquitto, tmp_path))
    device = Device(mosquitto)
    try:
        with api(service) as client:
            provision_fridge(client, "fridge-0001")
            provision_fridge(client, "fridge-0002")
            now = SCENARIO_START
            bad = bad_messages(now)
            messages = []
            for seq, (_reason, message) in enumerate(bad.items(), start=1):
                messages += [good(2 * seq - 1, now), message, good(2 * seq, now)]
            messages.append(good(2, now))  # a duplicate: dropped, not dead-lettered
            device.publish_many(messages)
            good_count = 2 * len(bad)

            wait_until(
                lambda: (
                    service.telemetry.count("fridge-0001") == good_count
                    and sum(service.stats.snapshot()["rejected"].values()) == len(bad)
                ),
                timeout=20,
                what="good readings stored and bad ones rejected",
            )
            stats = client.get("/api/v1/ingest/stats").json()
            assert stats["rejected"] == {reason.value: 1 for reason in bad}
            assert stats["dead_letters_by_reason"] == {reason.value: 1 for reason in bad}
            assert stats["duplicates"] == 1
            stored = client.get("/api/v1/devices/fridge-0001/telemetry", params={"limit": 1000})
            assert [r["seq"] for r in stored.json()["items"]] == list(range(1, good_count + 1))

            letters = client.get("/api/v1/dead-letters").json()["items"]
            unknown = next(row for row in letters if row["reason"] == "unknown_device")
            assert unknown["device_id"] == "fridge-9999"
            assert "not provisioned" in unknown["detail"]

            health = client.get("/health")
            assert health.status_code == 200, health.text
            assert health.json()["status"] == "ok"
    finally:
        device.close()
        service.stop()
