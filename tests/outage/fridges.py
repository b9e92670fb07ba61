"""Fridge readings for the outage tests: a healthy hour, then a compressor that stops.

What detection makes of them is computed here with the service's own engine, so the
tests expect exactly the tickets the service should open, whatever the detectors are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from detection.engine import DetectionEngine
from domain import DeviceType, Reading
from domain.wire import encode_reading
from faultline.victoria_metrics import VictoriaMetrics
from storage.line_protocol import decode_name
from tests.service_harness import Device


def failing_fridge(
    device_id: str, start: float, count: int = 600, step: float = 30.0
) -> list[Reading]:
    """`count` readings every `step` s; the compressor dies after the first hour."""
    readings = []
    for i in range(count):
        minute = i * step / 60
        if minute < 60:
            on = 1.0 if (minute // 20) % 2 == 0 else 0.0
            cabinet = 4.0 + (-0.1 if on else 0.3)
            freezer = -18.0
        else:
            on = 0.0
            cabinet = 4.0 + 0.025 * (minute - 60)
            freezer = -18.0 + 0.03 * (minute - 60)
        metrics = {
            "cabinet_temp_c": round(cabinet, 3),
            "freezer_temp_c": round(freezer, 3),
            "setpoint_c": 4.0,
            "compressor_on": on,
            "door_open": 0.0,
            "power_w": 90.0 if on else 3.0,
        }
        readings.append(Reading(device_id, start + i * step, i + 1, metrics))
    return readings


def expected_tickets(readings: Iterable[Reading]) -> dict[tuple[str, str], int]:
    """(device, fault code) -> seq of the reading that confirms it, per the engine."""
    engine = DetectionEngine()
    found: dict[tuple[str, str], int] = {}
    for reading in readings:
        for anomaly in engine.process(DeviceType.FRIDGE, reading):
            found.setdefault((anomaly.device_id, str(anomaly.fault_code)), reading.seq)
    return found


def publish(device: Device, readings: Sequence[Reading], chunk: int = 500) -> None:
    """Publish at QoS 1, waiting for every PUBACK (the broker has them all after this)."""
    for first in range(0, len(readings), chunk):
        device.publish_many(
            (f"devices/{r.device_id}/telemetry", encode_reading(r))
            for r in readings[first : first + chunk]
        )


def points_per_device(victoria: VictoriaMetrics) -> dict[str, list[int]]:
    """The `seq` of every point VictoriaMetrics holds, per device, in time order."""
    found: dict[str, list[int]] = {}
    for series in victoria.export('{__name__="telemetry_seq"}'):
        device_id = decode_name(series["metric"]["device_id"])
        pairs = sorted(zip(series["timestamps"], series["values"], strict=True))
        found.setdefault(device_id, []).extend(int(value) for _, value in pairs)
    return found
