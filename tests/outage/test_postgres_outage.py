"""PostgreSQL going away mid-stream: the service stays up, says it is degraded, and once the
database is back every reading is stored and every ticket opened, once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.outage.fridges import expected_tickets, failing_fridge, publish
from tests.outage.service_process import ServiceProcess, open_tickets, stored_seqs
from tests.service_harness import Device, provision_fridge, wait_until
from tests.storage.servers import PostgresServer, create_database

FRIDGE = "fridge-0001"


def _database_down(service: ServiceProcess) -> bool:
    status, body = service.health()
    return status == 503 and body["status"] == "degraded" and not body["checks"]["database"]["ok"]


def test_postgres_outage_mid_stream_loses_no_reading_and_no_ticket(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    server = PostgresServer()  # our own even with FAULTLINE_TEST_POSTGRES_URL: we stop it
    server.start()
    service = ServiceProcess(
        tmp_path / "service", mosquitto, database_url=create_database(server.url())
    )
    device = Device(mosquitto)
    try:
        service.start()
        with service.api() as client:
            provision_fridge(client, FRIDGE)
        readings = failing_fridge(FRIDGE, start=SCENARIO_START)
        expected = expected_tickets(readings)
        confirmed_at = expected[(FRIDGE, "FRIDGE_COMPRESSOR_FAILURE")]
        # The compressor failure is confirmed while the database is away.
        split = confirmed_at - 50
        publish(device, readings[:split])
        wait_until(lambda: service.stats()["stored"] >= split, 20, "the first part stored")

        server.stop("fast")
        publish(device, readings[split:])
        wait_until(lambda: _database_down(service), 20, "/health reporting the database down")
        time.sleep(1.5)  # ingest keeps retrying the batch against the missing database
        assert service.alive
        assert _database_down(service)

        server.start()
        wait_until(lambda: service.health()[0] == 200, 30, "/health ok again")
        wait_until(
            lambda: len(stored_seqs(service, FRIDGE)) >= len(readings), 30, "every reading stored"
        )
        wait_until(lambda: len(open_tickets(service)) >= len(expected), 30, "the tickets")
        assert stored_seqs(service, FRIDGE) == [r.seq for r in readings]
        tickets = Counter((t["device_id"], t["fault_code"]) for t in open_tickets(service))
        assert expected.keys() <= tickets.keys()  # none lost, the outage's one included
        assert set(tickets.values()) == {1}  # and none twice
    finally:
        device.close()
        service.discard()
        server.destroy()
