"""`faultline eval fleet` and `faultline bench detect` on tiny fleets (the real runs are
commands: 1,000 devices for 14 days take tens of minutes)."""

from __future__ import annotations

import pytest

from device_sim.fleet_definition import load_fleet_definition
from domain import AnomalySource, DeviceType, source_of
from faultline.bench_detect import bench_readings, run_bench
from faultline.cli import main
from faultline.eval_fleet import evaluate, scaled_definition, simulate


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


def test_eval_fleet_prints_telemetry_only_results_beside_the_full_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["eval", "fleet", "--devices", "12", "--days", "0.5", "--seed", "3"]
    main([*args, "--no-fleet-model", "--robust"])
    out = capsys.readouterr().out
    full, _, alone = out.partition("telemetry only")
    assert "full detection (telemetry + appliance error codes)" in full
    assert "robust: unit parameters scaled by [0.8, 1.2]" in full
    assert full.count("FRIDGE_COMPRESSOR_FAILURE") == 1
    assert alone.count("FRIDGE_COMPRESSOR_FAILURE") == 1 and "per 1,000 device-days" in alone


def test_the_telemetry_only_run_sees_no_error_code_and_no_fleet_model() -> None:
    full = evaluate(devices=12, days=1, seed=3)
    alone = evaluate(devices=12, days=1, seed=3, error_codes=False)
    assert {source_of(a) for a in alone.anomalies} <= {AnomalySource.TELEMETRY}
    assert alone.messages < full.messages or not any(
        source_of(a) is AnomalySource.ERROR_CODE for a in full.anomalies
    )


def test_bench_detect_counts_readings_per_second() -> None:
    rows = bench_readings(8, 2.0, seed=4)
    result = run_bench(rows, rounds=1)
    assert result.readings == len(rows) > 0
    assert result.per_second > 0
