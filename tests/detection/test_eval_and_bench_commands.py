"""`faultline eval fleet` and `faultline bench detect` on tiny fleets (the real runs are
commands: 1,000 devices for 14 days take tens of minutes)."""

from __future__ import annotations

import pytest

from device_sim.fleet_definition import load_fleet_definition
from domain import DeviceType
from faultline.bench_detect import bench_readings, run_bench
from faultline.cli import main
from faultline.eval_fleet import scaled_definition, simulate


def test_a_fleet_definition_scales_to_the_asked_size() -> None:
    definition = scaled_definition(load_fleet_definition("default"), devices=37, days=2, seed=5)
    assert definition.device_count == 37
    assert set(definition.devices) == set(DeviceType)
    healthy = simulate(devices=12, days=0.5, seed=5, healthy=True)
    assert healthy.fleet.ground_truth == []


def test_eval_fleet_prints_the_table_per_code(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["eval", "fleet", "--devices", "12", "--days", "0.5", "--seed", "3", "--no-fleet-model"]
    )
    out = capsys.readouterr().out
    assert code in (0, 1)
    assert "fault code" in out and "SENSOR_STUCK" in out and "per 1,000 device-days" in out


def test_bench_detect_counts_readings_per_second() -> None:
    rows = bench_readings(8, 2.0, seed=4)
    result = run_bench(rows, rounds=1)
    assert result.readings == len(rows) > 0
    assert result.per_second > 0
