"""`faultline eval nab` / `nab-score` on a tiny NAB-shaped folder."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from faultline.eval_nab import NabDataError, format_report, run_nab, score_nab

START = datetime(2014, 4, 1, tzinfo=UTC)


def stamp(row: int) -> str:
    return (START + timedelta(minutes=5 * row)).strftime("%Y-%m-%d %H:%M:%S")


def write_series(path: Path, values: list[float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value"])
        writer.writerows([stamp(i), v] for i, v in enumerate(values))


@pytest.fixture
def nab(tmp_path: Path) -> Path:
    """Two categories: a sine that jumps at row 1500, and a clean sine."""
    sine = [10.0 + math.sin(2 * math.pi * i / 144) for i in range(2000)]
    jump = sine[:1500] + [v + 5.0 for v in sine[1500:]]
    write_series(tmp_path / "data" / "withAnomaly" / "jump.csv", jump)
    write_series(tmp_path / "data" / "noAnomaly" / "sine.csv", sine)
    labels = {
        "withAnomaly/jump.csv": [[stamp(1400) + ".000000", stamp(1599) + ".000000"]],
        "noAnomaly/sine.csv": [],
    }
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    return tmp_path


def test_run_then_score_finds_the_jump(nab: Path) -> None:
    assert run_nab(nab / "data", nab / "results") == 0
    with (nab / "results" / "withAnomaly" / "jump.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score"]
    assert len(rows) == 2000 and rows[0]["timestamp"] == stamp(0)
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)

    report = score_nab(nab / "results", nab / "labels.json")
    assert report["windows_detected"] == report["windows"] == 1
    assert report["score"] > 50.0
    assert report["missing"] == [] and report["unlabelled"] == []
    assert "withAnomaly/jump.csv" in format_report(report)


def test_scoring_reads_a_profiles_file(nab: Path) -> None:
    run_nab(nab / "data", nab / "results")
    profiles = {"strict": {"CostMatrix": {"tpWeight": 1.0, "fpWeight": 1.0, "fnWeight": 3.0}}}
    (nab / "profiles.json").write_text(json.dumps(profiles))
    report = score_nab(nab / "results", nab / "labels.json", "strict", nab / "profiles.json")
    assert report["profile"] == "strict" and report["null_score"] == -3.0


def test_missing_inputs_are_reported_with_a_way_out(nab: Path) -> None:
    (nab / "empty").mkdir()
    with pytest.raises(NabDataError, match=r"no \.csv files"):
        run_nab(nab / "empty", nab / "results")
    with pytest.raises(NabDataError, match="not a directory"):
        run_nab(nab / "nowhere", nab / "results")
    with pytest.raises(NabDataError, match="anomaly_score"):
        score_nab(nab / "data", nab / "labels.json")
    with pytest.raises(NabDataError, match="unknown profile"):
        score_nab(nab / "data", nab / "labels.json", "lenient")


def test_each_file_gets_its_nab_probation(tmp_path: Path) -> None:
    # 1200 rows: NAB's probation is 180 rows, so a jump at row 300 is scored and found.
    sine = [10.0 + math.sin(2 * math.pi * i / 144) for i in range(1200)]
    write_series(tmp_path / "data" / "short" / "jump.csv", sine[:300] + [v + 5 for v in sine[300:]])
    labels = {"short/jump.csv": [[stamp(250) + ".000000", stamp(349) + ".000000"]]}
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    run_nab(tmp_path / "data", tmp_path / "results")
    report = score_nab(tmp_path / "results", tmp_path / "labels.json")
    assert report["windows_detected"] == 1 and report["files"][0]["fp"] == 0
