"""A schemathesis run over the whole API (every operation, its default checks) finds nothing.

It runs the `st` command line against the app on a real uvicorn server, with the operator's
token, over a database holding one of everything, so list answers carry real items for the
response-schema checks. The seed and the example budget keep it repeatable and short.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from domain import Anomaly, FaultCode, Reading, Severity
from domain.wire import DeadLetter, RejectReason
from fieldservice import flows
from fieldservice.config import FieldServiceConfig
from storage import dead_letters
from tests.api.conftest import TOKEN, LiveApi

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261126
MAX_EXAMPLES = 10


def _seed(client: httpx.Client, api: LiveApi) -> None:
    """A fridge with readings, its customer, a technician, a ticket with alerts, dead letters."""
    fridge = {
        "device_id": "fridge-0001",
        "type": "fridge",
        "model": "FR-300",
        "customer_id": "c-17",
        "location": {"lat": 31.23, "lon": 121.47},
        "install_date": "2024-03-01",
    }
    assert client.post("/api/v1/devices", json=fridge).status_code == 201
    customer = {"name": "Li Na", "email": "li.na@example.com", "language": "zh"}
    assert client.put("/api/v1/customers/c-17", json=customer).status_code == 200
    technician = {
        "technician_id": "t-05",
        "name": "Wang Wei",
        "skills": ["fridge"],
        "base": {"lat": 31.2, "lon": 121.5},
        "radius_km": 25,
    }
    assert client.post("/api/v1/technicians", json=technician).status_code == 201
    start = 1_764_000_000.0
    api.telemetry.write(
        [
            Reading("fridge-0001", start + 60 * n, n, {"cabinet_temp_c": 4.0 + n / 10})
            for n in range(1, 6)
        ]
    )
    with api.sessions.begin() as session:
        flows.handle_anomaly(
            session=session,
            anomaly=Anomaly(
                device_id="fridge-0001",
                fault_code=FaultCode.FRIDGE_TEMP_DRIFT,
                severity=Severity.MEDIUM,
                detected_at=start + 3600,
                onset_at=start + 1800,
                confidence=0.87,
                summary="cabinet 4.1 °C -> 9.3 °C over 30 min while the compressor ran",
                evidence={"cabinet_temp_c": {"baseline": 4.1, "now": 9.3}},
                diagnosis={"probable_cause": "door seal leak", "skill": "fridge"},
            ),
            now=time.time(),
            config=FieldServiceConfig(),
        )
        dead_letters.add_many(
            session=session,
            letters=[
                DeadLetter(
                    topic="devices/fridge-9999/telemetry",
                    payload=b'{"ts": 1764000000, "seq": 1, "metrics": {}}',
                    reason=RejectReason.UNKNOWN_DEVICE,
                    detail="device fridge-9999 is not provisioned",
                    received_at=start,
                    device_id="fridge-9999",
                )
            ],
        )
    assert client.get("/api/v1/tickets").json()["items"], "the seeded ticket is listed"


def test_schemathesis_finds_nothing_over_the_whole_api(
    client: httpx.Client, live_api: LiveApi, tmp_path: Path
) -> None:
    _seed(client, live_api)
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{live_api.base_url}/openapi.json",
        "--header", f"Authorization: Bearer {TOKEN}",
        "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "1",
        "--generation-database", "none",
        "--request-timeout", "10",
        "--no-color",
    ]  # fmt: skip
    environment = {
        # The client keeps the real clock when the suite runs under faketime: libfaketime
        # slows Hypothesis (which times everything) tenfold. The server under test is faked.
        **{k: v for k, v in os.environ.items() if "FAKETIME" not in k and "faketime" not in v},
        "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=240
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "No issues found" in report or "passed" in report, report
