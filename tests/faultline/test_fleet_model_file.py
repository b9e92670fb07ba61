"""`faultline model train` writes a fleet model that `faultline run` loads and uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain import Anomaly, FaultCode, Reading, Severity
from domain.wire import encode_reading
from faultline.cli import main
from faultline.eval_fleet import simulate
from faultline.fleet_model_file import FleetModelFileError, load
from storage import anomalies, devices
from storage.database import make_engine, make_session_factory, migrate
from storage.embedded_telemetry import EmbeddedTelemetryStore
from tests.mosquitto import Mosquitto
from tests.service_harness import (
    Device,
    api,
    provision_fridge,
    service_settings,
    start_service,
    wait_until,
)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "fleet.joblib"
    assert main(["model", "train", "--out", str(out), "--devices", "24", "--days", "1"]) == 0
    return out


def test_the_trained_file_loads_with_a_forest_per_model_and_type(model_file: Path) -> None:
    model = load(model_file)
    assert {"FR-300", "fridge"} <= set(model.forests_)


def test_a_missing_or_foreign_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FleetModelFileError, match=r"no such file.*faultline model train"):
        load(tmp_path / "nope.joblib")
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"not a pickle")
    with pytest.raises(FleetModelFileError, match="cannot be read"):
        load(junk)


def test_the_service_scores_devices_against_their_own_model(
    mosquitto: Mosquitto, tmp_path: Path, model_file: Path
) -> None:
    service = start_service(service_settings(mosquitto, tmp_path, fleet_model=str(model_file)))
    device = Device(mosquitto)
    try:
        assert service.pipeline.engine.fleet_model is not None
        with api(service) as client:
            provision_fridge(client, "fridge-0001")
        reading = Reading("fridge-0001", 1_764_000_000.0, 1, {"cabinet_temp_c": 4.0})
        device.publish("devices/fridge-0001/telemetry", encode_reading(reading))
        # `stored` counts a batch once the pipeline (detection included) is done with it.
        wait_until(lambda: service.stats.snapshot()["stored"] == 1, 10, "the reading processed")
        saved = service.pipeline.engine.state()["devices"]["fridge-0001"]
        assert saved["group"] == "FR-300"
        assert "features" in saved, "hourly features are collected for the fleet model"
    finally:
        device.close()
        service.stop()


def test_a_model_learns_from_the_sites_own_history_leaving_out_devices_with_anomalies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = simulate(devices=12, days=1.0, seed=3, healthy=True)
    db_url = f"sqlite:///{tmp_path / 'site.db'}"
    db = make_engine(db_url)
    migrate(db)
    with make_session_factory(db).begin() as session:
        for info in run.fleet.devices:
            devices.create(session=session, device_in=info)
        odd = run.fleet.devices[0]
        anomalies.add(
            session=session,
            anomaly=Anomaly(
                odd.device_id,
                FaultCode.SENSOR_STUCK,
                Severity.LOW,
                run.start_ts + 3600.0,
                run.start_ts,
                0.9,
                "stuck",
            ),
            ticket_id=None,
        )
    db.dispose()
    store = EmbeddedTelemetryStore(str(tmp_path / "telemetry.db"))
    store.write(list(run.readings))
    store.close()
    out = tmp_path / "site.joblib"
    argv = ["model", "train", "--from-history", "--out", str(out), "--days", "1"]
    argv += ["--until", str(run.end_ts), "--database-url", db_url]
    argv += ["--telemetry-path", str(tmp_path / "telemetry.db")]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "of 11 devices" in said and "1 with anomalies left out" in said
    model = load(out)
    mix = {info.type.value for info in run.fleet.devices[1:]}
    assert mix <= set(model.forests_), "every type present gets its own forest"


def test_history_without_a_complete_hour_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["model", "train", "--from-history", "--out", str(tmp_path / "m.joblib")]
    argv += ["--database-url", f"sqlite:///{tmp_path / 'empty.db'}"]
    argv += ["--telemetry-path", str(tmp_path / "t.db")]
    assert main(argv) == 1
    assert "complete hours of readings" in capsys.readouterr().err
