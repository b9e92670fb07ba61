"""State-of-health prognosis: the trend and its end-of-life band, checked on synthetic fades
and validated on the NASA PCoE cells (fed one discharge cycle at a time, as the README
suggests), with tolerances taken from what the method actually achieves."""

from __future__ import annotations

import csv
import doctest
import json
import math
from pathlib import Path

import numpy as np
import pytest

import detection.prognosis
from detection.prognosis import EolProjection, FadeTrend

NASA = Path(__file__).resolve().parents[3] / "shared" / "battery"
EOL_AH = 1.4  # the data set's end of life
# First cycle below 1.4 Ah (README); B0007 never gets there in its 168 cycles.
TRUE_EOL = {"B0005": 125, "B0006": 109, "B0018": 97}
HALF_LIFE = 20.0  # cycles
MIN_SCALE = 0.005  # Ah: the capacity measurement's resolution, roughly


def _cell(name: str) -> tuple[list[float], list[float]]:
    with (NASA / f"{name}.csv").open() as src:
        rows = list(csv.DictReader(src))
    return [float(r["discharge"]) for r in rows], [float(r["capacity"]) for r in rows]


def _replay(name: str, start: int = 20) -> list[EolProjection]:
    """Feed a cell cycle by cycle; the projection after each cycle from `start` on."""
    trend = FadeTrend(half_life=HALF_LIFE, min_scale=MIN_SCALE)
    out = []
    for cycle, capacity in zip(*_cell(name), strict=True):
        trend.update(cycle, capacity)
        if cycle >= start:
            out.append(trend.project(EOL_AH))
    return out


@pytest.fixture(scope="module")
def replays() -> dict[str, list[EolProjection]]:
    return {name: _replay(name) for name in ("B0005", "B0006", "B0007", "B0018")}


def test_a_straight_fade_is_recovered_with_its_crossing_inside_a_tight_band() -> None:
    trend = FadeTrend(half_life=50.0, min_scale=0.001)
    rng = np.random.default_rng(1)
    for cycle in range(80):
        trend.update(float(cycle), 0.95 - 0.002 * cycle + float(rng.normal(0, 0.002)))
    p = trend.project(0.70)
    assert p.slope == pytest.approx(-0.002, rel=0.1)
    assert p.level == pytest.approx(0.95 - 0.002 * 79, abs=0.004)
    assert p.central == pytest.approx(125, abs=6)
    assert p.earliest < 125 < p.latest
    assert p.latest - p.earliest < 30
    assert p.slope_t < -10
    assert p.remaining() == (p.earliest - 79, p.central - 79, p.latest - 79)


def test_a_flat_trend_never_crosses_and_says_so() -> None:
    trend = FadeTrend(half_life=30.0, min_scale=0.002)
    for cycle in range(40):
        trend.update(float(cycle), 0.9 + 0.002 * (-1) ** cycle)
    p = trend.project(0.7)
    assert math.isinf(p.latest)
    assert p.central > 1000
    assert abs(p.slope_t) < 2


def test_samples_must_come_in_order_and_three_are_needed() -> None:
    trend = FadeTrend(half_life=10.0)
    trend.update(5.0, 0.9)
    with pytest.raises(ValueError, match="three samples"):
        trend.project(0.7)
    with pytest.raises(ValueError, match="must not decrease"):
        trend.update(4.0, 0.9)
    with pytest.raises(ValueError, match="half_life"):
        FadeTrend(half_life=0.0)


def test_state_round_trip_resumes_exactly() -> None:
    cycles, capacity = _cell("B0005")
    whole = FadeTrend(half_life=HALF_LIFE, min_scale=MIN_SCALE)
    first = FadeTrend(half_life=HALF_LIFE, min_scale=MIN_SCALE)
    for c, y in zip(cycles[:70], capacity[:70], strict=True):
        whole.update(c, y)
        first.update(c, y)
    saved = json.loads(json.dumps(first.state()))
    resumed = FadeTrend.from_state(saved, half_life=HALF_LIFE, min_scale=MIN_SCALE)
    for c, y in zip(cycles[70:], capacity[70:], strict=True):
        whole.update(c, y)
        resumed.update(c, y)
    assert resumed.project(EOL_AH) == whole.project(EOL_AH)


@pytest.mark.parametrize("cell", sorted(TRUE_EOL))
def test_nasa_cells_end_of_life_is_projected_weeks_ahead(
    cell: str, replays: dict[str, list[EolProjection]]
) -> None:
    """Measured (half-life 20 cycles): the central estimate's error at 70 % of life is
    -19 (B0006), -6 (B0005), +5 (B0018) cycles, at 90 % within 11 cycles; the true
    crossing lies in the band at 90 % of life for all three, and in 60-86 % of the
    projections made over the last 60 % of life. The linear trend lags a knee: early on
    B0005's estimate is 50 cycles late (its fade speeds up after cycle ~30)."""
    true = TRUE_EOL[cell]
    by_cycle = {int(p.x): p for p in replays[cell]}
    at70, at90 = by_cycle[int(0.7 * true)], by_cycle[int(0.9 * true)]
    assert abs(at70.central - true) <= 20
    assert abs(at90.central - true) <= 12
    assert at90.earliest <= true <= at90.latest
    late = [p for p in replays[cell] if 0.4 * true <= p.x < true]
    coverage = np.mean([p.earliest <= true <= p.latest for p in late])
    assert coverage >= 0.55
    # How early: from this cycle on, the central estimate stays within 10 % of the truth.
    errors = [(p.x, abs(p.central - true) <= 0.1 * true) for p in replays[cell] if p.x < true]
    settled = next(x for i, (x, _) in enumerate(errors) if all(ok for _, ok in errors[i:]))
    assert true - settled >= 10  # at least ten cycles of warning, 33-52 for two of them


def test_capacity_regeneration_is_not_taken_for_recovery(
    replays: dict[str, list[EolProjection]],
) -> None:
    # NASA capacities jump up to +0.15 Ah after rests; the fade stays significant
    # throughout the second half of every cell's life.
    for cell, projections in replays.items():
        second_half = [p for p in projections if p.x >= 60]
        assert all(p.slope < 0 for p in second_half), cell
        assert np.mean([p.slope_t < -3 for p in second_half]) > 0.9, cell


def test_a_cell_that_never_reaches_end_of_life_is_not_called_early(
    replays: dict[str, list[EolProjection]],
) -> None:
    # B0007 ends at 1.43 Ah after 168 cycles: the projections never put its end of life
    # before cycle 130, and the last one puts it about now.
    projections = replays["B0007"]
    assert min(p.central for p in projections if p.x >= 60) > 130
    assert projections[-1].earliest >= 150


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(detection.prognosis, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0
