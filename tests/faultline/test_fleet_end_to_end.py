"""The whole loop on real parts: 20 simulated fridges over MQTT → tickets for exactly the faulty ones."""

from __future__ import annotations

from pathlib import Path

from device_sim.provision import provision
from device_sim.publisher import publish
from device_sim.scenario import readings
from faultline.simulate import DAY, plan
from tests.clock import SCENARIO_START
from tests.mosquitto import Mosquitto
from tests.service_harness import TOKEN, api, service_settings, start_service, wait_until

DEVICES = 20
DAYS = 4.0


def test_twenty_fridges_replayed_fast_get_tickets_exactly_for_the_faulty_ones(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    service = start_service(service_settings(mosquitto, tmp_path))
    try:
        sim = plan(devices=DEVICES, days=DAYS, seed=2024, faulty_share=0.4, start=SCENARIO_START)
        truth = {(t.device_id, t.fault_code.value) for t in sim.fleet.ground_truth}
        assert {code for _, code in truth} == {"FRIDGE_COMPRESSOR_FAILURE", "FRIDGE_TEMP_DRIFT"}
        assert len(truth) == 8

        provision(sim.fleet.devices, base_url=service.base_url, token=TOKEN)
        stats = publish(
            readings(sim.fleet, start_ts=sim.start_ts, duration_s=sim.duration_s),
            host="127.0.0.1",
            port=mosquitto.port,
        )
        expected = DEVICES * int(DAYS * DAY / 60)
        assert stats.acknowledged == expected
        # `stored` counts a batch once the pipeline (tickets included) is done with it.
        wait_until(lambda: service.stats.snapshot()["stored"] == expected, 60, "all processed")
        assert service.telemetry.count() == expected

        with api(service) as client:
            items = client.get("/api/v1/tickets", params={"limit": 100}).json()["items"]
        assert {(t["device_id"], t["fault_code"]) for t in items} == truth
        onsets = {t.device_id: t.onset_ts for t in sim.fleet.ground_truth}
        for ticket in items:
            assert ticket["status"] == "opened"
            assert ticket["detected_at"] > onsets[ticket["device_id"]]
            diagnosis = ticket["diagnosis"]
            assert diagnosis["recommended_action"] and diagnosis["parts"]
            assert diagnosis["evidence"], "ticket carries no evidence"
        assert service.stats.snapshot()["rejected_total"] == 0
    finally:
        service.stop()
