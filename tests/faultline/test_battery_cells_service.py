"""The NASA cells (../shared/battery) through the running service, as a user would send
them: one discharge cycle a day, capacity as full_charge_capacity_mah of a 2000 mAh design,
cycle_count = cycle, over MQTT. B0005, B0006 and B0018 get a wear ticket whose horizon
holds their real end of life; B0007 none before cycle 150; no other ticket on any (but the
outage at the end of B0018's data, which stops 36 cycles before the others')."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.wire import encode_reading
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.nasa_cells import DAY, NASA, cell_readings
from tests.service_harness import Device, api, service_settings, start_service, wait_until

pytestmark = pytest.mark.skipif(
    not NASA.is_dir(), reason=f"the NASA cells are not at {NASA} (../shared/battery)"
)
CELLS = ("B0005", "B0006", "B0007", "B0018")
TRUE_EOL = {"B0005": 125.0, "B0006": 109.0, "B0018": 97.0}


def test_real_cells_through_the_service_get_exactly_their_wear_tickets(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    service = start_service(service_settings(mosquitto, tmp_path))
    device = Device(mosquitto, client_id="nasa-cells")
    streams = {cell: cell_readings(cell, SCENARIO_START) for cell in CELLS}
    try:
        with api(service) as client:
            for cell in CELLS:
                body = {
                    "device_id": cell,
                    "type": "battery_pack",
                    "model": "NASA-18650",
                    "customer_id": f"c-{cell}",
                    "location": {"lat": 31.2, "lon": 121.5},
                }
                assert client.post("/api/v1/devices", json=body).status_code == 201
            # Day by day, all four cells, as a fleet reports.
            by_day = sorted((r for rs in streams.values() for r in rs), key=lambda r: r.ts)
            device.publish_many(
                (f"devices/{r.device_id}/telemetry", encode_reading(r)) for r in by_day
            )
            total = sum(len(rs) for rs in streams.values())
            # `stored` counts a batch once the pipeline (tickets included) is done with it.
            wait_until(lambda: service.stats.snapshot()["stored"] == total, 60, "all processed")
            tickets = client.get("/api/v1/tickets", params={"limit": 100}).json()["items"]
        found = {(t["device_id"], t["fault_code"]) for t in tickets}
        early_b0007 = [
            t for t in tickets if t["device_id"] == "B0007" and t["detected_at"] < _cycle_ts(150)
        ]
        assert early_b0007 == []
        assert {(cell, "BATTERY_WEAR") for cell in TRUE_EOL} <= found
        # B0018's data ends at cycle 132 while the others report on to 168: 36 days of real
        # silence, which is an outage; nothing else is allowed.
        assert found - {(cell, "BATTERY_WEAR") for cell in CELLS} <= {("B0018", "DEVICE_OFFLINE")}
        last_b0018 = streams["B0018"][-1].ts
        for ticket in tickets:
            if ticket["fault_code"] == "DEVICE_OFFLINE":
                assert ticket["detected_at"] > last_b0018 + 3 * DAY  # silent for 3+ of its days
        for ticket in tickets:
            evidence = ticket["diagnosis"]["evidence"]
            cell = ticket["device_id"]
            if cell in TRUE_EOL and ticket["fault_code"] == "BATTERY_WEAR":
                cycle = evidence["cycle_count"]
                assert cycle <= TRUE_EOL[cell] <= cycle + evidence["horizon"], (cell, evidence)
    finally:
        device.close()
        service.stop()


def _cycle_ts(cycle: float) -> float:
    return SCENARIO_START + cycle * DAY
