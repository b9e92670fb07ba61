"""`faultline eval battery DIR`: the wear prognosis graded on real cells aged to the end.

DIR holds NASA-PCoE-format CSVs (one row per discharge cycle: `discharge` = cycle,
`capacity` in Ah; e.g. ../shared/battery). Each cell is fed to the wear detector as a
battery pack, one cycle a day; from cycle `--start` on its end-of-life projection is
recorded after every cycle and scored from half of life on. The band width is then
calibrated leaving one cell out (calibrated on the others, measured on it), and the
tickets the detector raised are checked against each cell's real end of life.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from detection.profiles import BatteryProfile
from detection.prognosis_scoring import CellRun, CellScore, ScoreTable, pooled, replay

TARGET_ERROR = 15.0  # cycles, mean |error| of the central estimate from half of life on
TARGET_COVERAGE = 0.85  # of the nominal 90 % band
NOMINAL = 0.90
GRID = tuple(round(0.05 * i, 2) for i in range(0, 31))  # band widths tried (shape_sd)


class BatteryDataError(ValueError):
    """A cell file that cannot be used as it is."""


def read_cell(path: Path) -> tuple[list[float], list[float]]:
    """(cycles, capacity in Ah) from a NASA-format CSV, in cycle order."""
    with path.open(newline="", encoding="utf-8") as src:
        reader = csv.DictReader(src)
        missing = {"discharge", "capacity"} - set(reader.fieldnames or [])
        if missing:
            raise BatteryDataError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append((float(row["discharge"]), float(row["capacity"])))
            except ValueError as exc:
                raise BatteryDataError(f"{path}:{line}: {exc}") from exc
    if len(rows) < 3:
        raise BatteryDataError(f"{path}: fewer than three cycles")
    rows.sort()
    return [c for c, _ in rows], [a for _, a in rows]


def cell_files(data_dir: Path) -> list[Path]:
    if not data_dir.is_dir():
        raise BatteryDataError(f"{data_dir} is not a folder of cell CSVs")
    paths = sorted(data_dir.glob("*.csv"))
    if not paths:
        raise BatteryDataError(f"no *.csv cell files in {data_dir}")
    return paths


def replay_all(
    paths: Sequence[Path], *, design_ah: float, start: float, profile: BatteryProfile
) -> list[CellRun]:
    runs = []
    live = sys.stdout.isatty()
    for path in paths:
        cycles, capacity = read_cell(path)
        began = time.perf_counter()
        last = cycles[-1]

        def progress(name: str, cycle: float, last: float = last) -> None:
            if cycle % 25 == 0 or cycle == last:
                lead = "\r" if live else "\n"
                print(f"{lead}  replaying {name}: cycle {cycle:.0f}/{last:.0f}", end="", flush=True)

        run = replay(
            path.stem,
            cycles,
            [1000.0 * a for a in capacity],
            design_mah=1000.0 * design_ah,
            profile=profile,
            start=start,
            progress=progress,
        )
        print(f" ({time.perf_counter() - began:.1f} s)", flush=True)
        runs.append(run)
    return runs


def _row(s: CellScore, label: str | None = None) -> str:
    truth = "" if label else "never" if s.true_eol is None else f"{s.true_eol:.0f}"
    extra = f"  early calls {s.early_calls:.0%}" if s.true_eol is None and label is None else ""
    return (
        f"  {label or s.name:<8} {truth:>6} {s.scored:>6} {s.mean_error:>8.1f} "
        f"{s.median_error:>8.1f} {s.coverage:>9.0%}{extra}"
    )


HEADER = "  cell     EoL    scored  mean|e|  med|e|  coverage"
CENSORED_NOTE = (
    "  (a cell that never reaches end of life: its error is a lower bound, its band counts as"
    " holding the truth when it reaches past the record; the pooled line leaves it out)"
)


def _ticket_line(run: CellRun, profile: BatteryProfile) -> tuple[str, bool]:
    if run.ticket is None:
        ok = run.true_eol is None
        return f"  {run.name}: no wear ticket" + ("" if ok else " (missed)"), ok
    e = run.ticket.evidence
    cycle = run.ticket_cycle if run.ticket_cycle is not None else math.nan
    horizon_end = cycle + float(e["horizon"])
    central, low, high = (
        e["projected_eol_cycle"],
        e["projected_eol_cycle_low"],
        e["projected_eol_cycle_high"],
    )
    band = f"{low:.0f}-{high:.0f}" if high is not None else f"from {low:.0f}"
    text = (
        f"  {run.name}: ticket at cycle {cycle:.0f}, end of life projected at {central:.0f} "
        f"(90 % band {band}), horizon {cycle:.0f}-{horizon_end:.0f}"
    )
    if run.true_eol is not None:
        ok = cycle <= run.true_eol <= horizon_end
        text += f"; true {run.true_eol:.0f}: {'inside' if ok else 'OUTSIDE'} the horizon"
    else:
        ok = horizon_end >= run.last_cycle
        text += f"; record ends at {run.last_cycle:.0f} above end of life" + (
            "" if ok else ": the horizon claim is already proven wrong"
        )
    return text, ok


def main(args: argparse.Namespace) -> int:
    profile = BatteryProfile()
    try:
        paths = cell_files(args.data_dir)
        print(
            f"{len(paths)} cells in {args.data_dir}; design {args.design_ah:g} Ah, end of life "
            f"{profile.eol_soh:.0%} of design ({profile.eol_soh * args.design_ah:.2f} Ah); "
            f"one cycle a day from cycle 1, projections scored from cycle {args.start:g} and "
            "half of life on",
            flush=True,
        )
        runs = replay_all(paths, design_ah=args.design_ah, start=args.start, profile=profile)
    except BatteryDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = ScoreTable(runs, profile)
    names = [run.name for run in runs]

    print(f"\nIn-sample, profile band width shape_sd = {profile.wear_shape_sd:g}:")
    print(HEADER)
    own = [table.get(name, profile.wear_shape_sd) for name in names]
    for s in own:
        print(_row(s))
    total = pooled(own)
    print(_row(total, "pooled"))
    if any(s.true_eol is None for s in own):
        print(CENSORED_NOTE)

    print(
        "\nCalibration (narrowest shape_sd whose 90 % band holds the truth >= 90 % on every cell):"
    )
    everyone = table.calibrate(names, GRID, NOMINAL)
    print(f"  on all cells: {everyone:g} (profile: {profile.wear_shape_sd:g})")
    print("Leave one cell out (calibrated on the others, measured on the one left out):")
    print(HEADER + "  shape_sd")
    loo = table.leave_one_out(GRID, NOMINAL)
    for _, shape_sd, s in loo:
        print(_row(s) + f"  {shape_sd:>8g}")
    loo_total = pooled([s for _, _, s in loo])
    print(_row(loo_total, "pooled"))

    print(
        f"\nTickets (whole band inside the {profile.wear_horizon_cycles:g}-cycle horizon, "
        "profile settings):"
    )
    tickets_ok = True
    for run in runs:
        text, ok = _ticket_line(run, profile)
        tickets_ok &= ok
        print(text)

    failures = []
    if not total.mean_error <= TARGET_ERROR:
        failures.append(f"mean end-of-life error {total.mean_error:.1f} > {TARGET_ERROR:g} cycles")
    if not total.coverage >= TARGET_COVERAGE:
        failures.append(f"band coverage {total.coverage:.0%} < {TARGET_COVERAGE:.0%}")
    if not loo_total.coverage >= TARGET_COVERAGE:
        failures.append(f"leave-one-out coverage {loo_total.coverage:.0%} < {TARGET_COVERAGE:.0%}")
    if not tickets_ok:
        failures.append("a wear ticket's horizon does not contain the cell's end of life")
    if failures:
        print("\ntargets NOT met: " + "; ".join(failures))
        return 1
    print(
        f"\ntargets met: mean error {total.mean_error:.1f} <= {TARGET_ERROR:g} cycles, coverage "
        f"{total.coverage:.0%} (leave-one-out {loo_total.coverage:.0%}) >= "
        f"{TARGET_COVERAGE:.0%}, every ticket's horizon holds its cell's end of life"
    )
    return 0


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", type=Path, help="folder of NASA-format cell CSVs")
    parser.add_argument("--design-ah", type=float, default=2.0, help="rated capacity (Ah)")
    parser.add_argument("--start", type=float, default=20.0, help="first projected cycle")
