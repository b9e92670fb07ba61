"""`faultline bench scale` measures 1 and 2 partitioned workers end to end (slow: it starts
worker processes and nats-servers)."""

from __future__ import annotations

import re

import pytest

from faultline.cli import main


@pytest.mark.slow
def test_bench_reports_readings_per_second_for_each_worker_count_and_the_bare_consumer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "scale", "--devices", "40", "--readings", "10", "--workers", "1,2"]) == 0
    report = capsys.readouterr().out
    rows = {
        line.split()[0]: line.split()
        for line in report.splitlines()
        if re.match(r"\s*(1|2|bare)\s", line)
    }
    assert set(rows) == {"1", "2", "bare"}, report
    for cells in rows.values():
        assert float(cells[1].replace(",", "")) > 0
    assert float(rows["1"][5].replace(",", "")) > 0, "stream bytes per reading"
    assert float(rows["1"][6].replace(",", "")) > 0, "checkpoint bytes per device"
