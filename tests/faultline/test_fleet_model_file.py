"""`faultline model train` writes a fleet model that `faultline run` loads and uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain import Reading
from domain.wire import encode_reading
from faultline.cli import main
from faultline.fleet_model_file import FleetModelFileError, load
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
        wait_until(lambda: service.telemetry.count() == 1, 10, "the reading stored")
        saved = service.pipeline.engine.state()["devices"]["fridge-0001"]
        assert saved["group"] == "FR-300"
        assert "features" in saved, "hourly features are collected for the fleet model"
    finally:
        device.close()
        service.stop()
