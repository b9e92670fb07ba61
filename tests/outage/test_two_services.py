"""Two service processes on one PostgreSQL, both receiving the same readings (each has its
own MQTT session): each detects the same faults, and the database keeps one ticket per
fault — the second detection is folded into the first ticket as a repeat."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.outage.fridges import expected_tickets, failing_fridge, publish
from tests.outage.service_process import ServiceProcess, open_tickets
from tests.service_harness import Device, provision_fridge, wait_until

FRIDGES = ["fridge-0001", "fridge-0002", "fridge-0003"]


def _stored_all(service: ServiceProcess, count: int) -> bool:
    return bool(service.stats()["stored"] == count)


def test_the_same_anomaly_reaching_two_services_opens_one_ticket(
    mosquitto: Mosquitto, postgres_url: str, tmp_path: Path
) -> None:
    services = [
        ServiceProcess(
            tmp_path / name,
            mosquitto,
            database_url=postgres_url,
            mqtt_client_id=f"faultline-{name}",
        )
        for name in ("a", "b")
    ]
    device = Device(mosquitto)
    try:
        for service in services:  # both at once: migrations race, the advisory lock decides
            service.launch()
        for service in services:
            service.wait_ready()
        first, second = services
        with first.api() as client:
            for fridge in FRIDGES:
                provision_fridge(client, fridge)
        start = SCENARIO_START
        # The fleet streams side by side, in event-time order.
        readings = sorted(
            (r for fridge in FRIDGES for r in failing_fridge(fridge, start)),
            key=lambda r: (r.ts, r.device_id),
        )
        compressor = {(fridge, "FRIDGE_COMPRESSOR_FAILURE") for fridge in FRIDGES}
        assert compressor <= expected_tickets(readings).keys()

        publish(device, readings)
        for service in services:
            wait_until(
                partial(_stored_all, service, len(readings)),
                30,
                f"every reading stored by {service.workdir.name}",
            )

        def both_reported() -> bool:
            tickets = open_tickets(first)
            on_compressor = [t for t in tickets if (t["device_id"], t["fault_code"]) in compressor]
            return len(on_compressor) == len(compressor) and all(
                t["occurrences"] == 2 for t in on_compressor
            )

        # Each service detected each compressor failure once; the database kept one ticket.
        wait_until(both_reported, 30, "both services' detections on one ticket per fault")
        per_fault = Counter((t["device_id"], t["fault_code"]) for t in open_tickets(second))
        assert set(per_fault.values()) == {1}, per_fault
    finally:
        device.close()
        for service in services:
            service.discard()
