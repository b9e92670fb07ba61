"""`faultline bench telemetry` reports write throughput for every backend."""

from __future__ import annotations

import re

import pytest

from faultline.cli import main


def test_bench_reports_readings_per_second_for_each_backend(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "telemetry", "--readings", "3000", "--devices", "30"]) == 0
    report = capsys.readouterr().out
    for backend in ("encode", "embedded", "spool", "influx"):
        line = next(line for line in report.splitlines() if line.startswith(backend))
        readings_per_s = float(re.split(r"\s{2,}", line.strip())[2].replace(",", ""))
        assert readings_per_s > 0, line
    assert "VictoriaMetrics /api/v2/write" in report
