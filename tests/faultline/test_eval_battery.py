"""`faultline eval battery DIR`: per-cell error and coverage, leave-one-out calibration and
the tickets, on small synthetic cells written in the NASA format (the real cells run in
the slow test), and a clear refusal of folders it cannot use."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from faultline.cli import main

NASA = Path(__file__).resolve().parents[2].parent / "shared" / "battery"


def _write_cell(folder: Path, name: str, capacity_ah: np.ndarray) -> None:
    with (folder / f"{name}.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["discharge", "voltage", "temperature", "time", "capacity", "soh"])
        for cycle, ah in enumerate(capacity_ah, start=1):
            writer.writerow([cycle, 3.3, 35.0, 3000.0, ah, 100.0 * ah / capacity_ah[0]])


def _knee_cell(knee: float, fast: float, seed: int, cycles: int = 90) -> np.ndarray:
    """A 2 Ah cell fading 0.05 % a cycle, then `fast` per cycle from `knee` on, with the
    gauge's scatter and a regeneration after a rest every 30 cycles."""
    n = np.arange(1.0, cycles + 1)
    soh = 0.95 - 0.0005 * n - fast * np.maximum(n - knee, 0.0)
    soh += np.random.default_rng(seed).normal(0.0, 0.002, n.size)
    for rest in range(30, cycles, 30):
        soh[rest : rest + 6] += 0.03 * np.exp(-np.arange(min(6, cycles - rest)) / 2.0)
    out: np.ndarray = 2.0 * soh
    return out


def test_eval_battery_prints_each_cell_the_leave_one_out_and_the_tickets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_cell(tmp_path, "K10", _knee_cell(10.0, 0.004, seed=1))
    _write_cell(tmp_path, "K15", _knee_cell(15.0, 0.005, seed=2))
    _write_cell(tmp_path, "K20", _knee_cell(20.0, 0.0045, seed=3))
    status = main(["eval", "battery", str(tmp_path)])
    out = capsys.readouterr().out
    assert "3 cells in" in out and "replaying K15" in out
    for section in ("In-sample", "Leave one cell out", "Tickets"):
        assert section in out
    rows = [line.split() for line in out.splitlines() if line.startswith("  K")]
    lines = {row[0]: row for row in rows if not row[0].endswith(":")}
    assert set(lines) == {"K10", "K15", "K20"}
    assert all(float(row[3]) < 5 for row in lines.values())  # mean |error|, in cycles
    assert "inside the horizon" in out
    assert status == 0 and "targets met" in out


def test_eval_battery_fails_loudly_when_a_cell_collapses_without_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Slow, steady fade, then capacity falls off a cliff at cycle 100: nothing before the
    # cliff says so, so projections from half of life on are far too late.
    n = np.arange(1.0, 111.0)
    cliff = 2.0 * (0.95 - 0.0005 * n - 0.05 * np.maximum(n - 100.0, 0.0))
    _write_cell(tmp_path, "CLIFF", cliff)
    _write_cell(tmp_path, "K10", _knee_cell(10.0, 0.004, seed=1))
    status = main(["eval", "battery", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 1
    assert "targets NOT met" in out and "mean end-of-life error" in out


def test_eval_battery_refuses_a_folder_without_cells_or_with_a_broken_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "battery", str(tmp_path)]) == 2
    assert "no *.csv cell files" in capsys.readouterr().err
    (tmp_path / "bad.csv").write_text("cycle,ah\n1,2.0\n")
    assert main(["eval", "battery", str(tmp_path)]) == 2
    assert "missing column(s) capacity, discharge" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not NASA.is_dir(), reason=f"the NASA cells are not at {NASA}")
def test_eval_battery_meets_the_targets_on_the_nasa_cells(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["eval", "battery", str(NASA)]) == 0
    out = capsys.readouterr().out
    assert "targets met" in out
    assert out.count("inside the horizon") == 3
