"""The NASA PCoE 18650 cells (../shared/battery, next to the repository) as a battery pack
reports them: one discharge cycle a day, capacity as full_charge_capacity_mah of a
2000 mAh design, cycle_count = cycle."""

from __future__ import annotations

import csv
from pathlib import Path

from domain import Reading

NASA = Path(__file__).resolve().parents[1].parent / "shared" / "battery"
DESIGN_MAH = 2000.0
DAY = 86400.0


def cell_readings(cell: str, start: float) -> list[Reading]:
    """Cell `cell`'s cycles as readings, cycle 0 at event time `start`."""
    with (NASA / f"{cell}.csv").open(newline="") as src:
        rows = list(csv.DictReader(src))
    return [
        Reading(
            cell,
            start + float(row["discharge"]) * DAY,
            seq,
            {
                "full_charge_capacity_mah": 1000.0 * float(row["capacity"]),
                "design_capacity_mah": DESIGN_MAH,
                "cycle_count": float(row["discharge"]),
                "voltage_v": float(row["voltage"]),
                "temp_c": float(row["temperature"]),
            },
        )
        for seq, row in enumerate(rows, start=1)
    ]
