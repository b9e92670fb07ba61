"""`faultline bench sim` runs end to end on a small fleet and reports rate and memory."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from faultline import bench_sim


def test_bench_sim_publishes_to_its_own_broker_and_reports(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    bench_sim.add_flags(parser)
    out = tmp_path / "bench.json"
    args = parser.parse_args(
        ["--devices", "120", "--seconds", "1.5", "--sample-s", "0.5", "--json", str(out)]
    )
    assert bench_sim.main(args) == 0
    report = json.loads(out.read_text())
    assert report["devices"] == 120
    assert report["readings"] > 1000 and report["acknowledged"] == report["messages"]
    assert report["readings_per_s"] > 0 and report["peak_rss_mb"] > 0
    assert report["samples"] and report["samples"][-1]["readings"] == report["readings"]
