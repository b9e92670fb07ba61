"""The physics plot is written as a PNG, for a fleet or for chosen units."""

from __future__ import annotations

from pathlib import Path

from device_sim.fleet import build_fridge_fleet
from device_sim.plot import plot_units
from domain import FaultCode

START = 1_764_000_000.0


def test_plot_of_a_fleet_shows_a_healthy_and_the_faulty_units(tmp_path: Path) -> None:
    fleet = build_fridge_fleet(
        count=4,
        seed=3,
        start_ts=START,
        faulty={FaultCode.FRIDGE_COMPRESSOR_FAILURE: 1},
        fault_window=(600.0, 3600.0),
    )
    path = plot_units(fleet, start_ts=START, duration_s=4 * 3600, path=tmp_path / "fleet.png")
    assert path.read_bytes().startswith(b"\x89PNG")
