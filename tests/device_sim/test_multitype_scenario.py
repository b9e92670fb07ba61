"""One bank per device type, merged: every type's readings in event-time order, each device
counting its own seq, and a large fleet stepped in windows giving the same readings."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import pytest

from device_sim import kinds, scenario
from device_sim.fleet import build_fleet
from device_sim.scenario import readings
from domain import DeviceType
from domain.devices import EXPECTED_METRICS
from faultline.cli import add_setting_flags, add_sim_flags, settings_from
from faultline.simulate import run_sim
from tests.device_sim.small_fleets import HOUR, START, definition, mixed
from tests.mosquitto import Mosquitto


def sim(*argv: str) -> int:
    """`faultline sim ARGV` (its own parser: the full CLI imports every command's module)."""
    parser = argparse.ArgumentParser()
    add_setting_flags(parser)
    add_sim_flags(parser)
    args = parser.parse_args(argv)
    return run_sim(settings_from(args), args)


def test_all_types_come_out_in_event_time_order_with_their_own_metrics() -> None:
    fleet = build_fleet(definition())
    out = list(readings(fleet, start_ts=START, duration_s=3 * HOUR))
    assert [r.ts for r in out] == sorted(r.ts for r in out)
    types = {d.device_id: d.type for d in fleet.devices}
    seqs: dict[str, list[int]] = defaultdict(list)
    for r in out:
        seqs[r.device_id].append(r.seq)
        assert set(EXPECTED_METRICS[types[r.device_id]]) <= set(r.metrics)
    assert set(seqs) == set(types)
    assert all(s == list(range(1, 181)) for s in seqs.values())
    first_tick = [r.device_id for r in out[: len(types)]]
    assert first_tick == [d.device_id for d in fleet.devices]


@pytest.mark.parametrize("device_type", list(DeviceType))
def test_stepping_in_windows_gives_the_same_readings(
    device_type: DeviceType, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = kinds.kind(device_type)
    fleet = build_fleet(definition(devices={device_type.value: {"models": {kind.models[0]: 3}}}))
    whole = list(readings(fleet, start_ts=START, duration_s=5 * HOUR))
    monkeypatch.setattr(scenario, "WINDOW_UNIT_REPORTS", 3 * 47)  # 47-minute windows
    assert list(readings(fleet, start_ts=START, duration_s=5 * HOUR)) == whole


def test_sim_records_provisions_to_a_file_and_replays(tmp_path: Path, mosquitto: Mosquitto) -> None:
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(
        json.dumps(mixed(duration="2h", faults={"rates": {"DEVICE_OFFLINE": 0.2}}))
    )
    record, devices, truth = (
        tmp_path / "run.ndjson.gz",
        tmp_path / "devices.json",
        tmp_path / "t.jsonl",
    )
    common = ["--fleet", str(fleet_file), "--ground-truth", str(truth)]
    assert sim(*common, "--record", str(record), "--provision-file", str(devices)) == 0
    provisioned = json.loads(devices.read_text())
    assert len(provisioned["devices"]) == 14 and provisioned["customers"]
    assert {"device_id", "type", "model", "customer_id", "location", "production_batch"} <= set(
        provisioned["devices"][0]
    )
    assert truth.exists()
    assert sim("--replay", str(record), "--mqtt-url", mosquitto.url, "--fast") == 0
    assert sim(*common, "--mqtt-url", mosquitto.url, "--days", "0.05") == 0
