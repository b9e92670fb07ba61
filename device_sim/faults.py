"""Injected faults: what breaks in a simulated fridge, when, and the ground-truth labels.

A `FaultSpec` says which fault a unit gets and when it starts; the shape functions turn
it into the physical inputs the thermal model uses (cooling capacity left, whether the
compressor can start, warm air leaking past the door seal). `GroundTruth` records are
the labels detection is graded against.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from domain import FaultCode

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# The fault shapes the fridge simulator can produce.
FRIDGE_FAULTS: tuple[FaultCode, ...] = (
    FaultCode.FRIDGE_COMPRESSOR_FAILURE,
    FaultCode.FRIDGE_TEMP_DRIFT,
    FaultCode.FRIDGE_DOOR_SEAL_LEAK,
)

# Refrigerant leak: how long the charge takes to bleed down at severity 1, and the
# cooling capacity left at the end (a nearly empty circuit still moves a little heat).
DRIFT_RAMP_S = 36 * 3600.0
DRIFT_FLOOR_AT_FULL_SEVERITY = 0.2

# Door seal (FRIDGE_DOOR_SEAL_LEAK): a gasket tears or hardens, or the door sags on its
# hinge, so kitchen air seeps into the cabinet all the time. The leak is a conductance
# (W/K) from the kitchen to the cabinet air: its sensible part plus the latent heat of
# the moisture the evaporator freezes out of that air, so it grows with the room's
# warmth. At onset this share of it is there at once; the tear widens (the door sags
# further) to the full leak over the wear time. The cooling circuit is untouched.
SEAL_LEAK_UA_AT_FULL_SEVERITY = 0.5  # W/K; the cabinet's walls are 0.65-1.1 W/K
SEAL_LEAK_AT_ONSET = 0.6
SEAL_WEAR_S = 2 * 86400.0
# A door that no longer seals also springs back off a hardened gasket now and then:
# after an opening it rests ajar (the door switch still reads shut) for a while, a gap
# that lets in as much as this share of a wide-open door.
SEAL_AJAR_CHANCE_AT_FULL_SEVERITY = 0.25  # per opening
SEAL_AJAR_S = (5 * 60.0, 25 * 60.0)
SEAL_AJAR_OPEN_SHARE = 0.15
SEAL_AJAR_LOOKBACK_S = SEAL_AJAR_S[1]  # an opening this long before a span can reach it
_STREAM_SEAL = 5


class FaultSpecError(ValueError):
    """A fault a simulated unit cannot take."""


def check_injectable(code: FaultCode, supported: tuple[FaultCode, ...], kind: str) -> None:
    """Raise `FaultSpecError` unless a `kind` unit can take fault `code`."""
    if code not in supported:
        raise FaultSpecError(f"the {kind} simulator injects {', '.join(supported)}; not {code}")


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Inject `code` into one unit from `onset_ts` (event time); `severity` in (0, 1] scales it."""

    code: FaultCode
    onset_ts: float
    severity: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.severity <= 1.0:
            raise FaultSpecError(f"severity must be in (0, 1], got {self.severity}")


def capacity_fraction(fault: FaultSpec | None, ts: FloatArray) -> FloatArray:
    """Cooling capacity left (1 = as built) at each event time in `ts`.

    A refrigerant leak (`FRIDGE_TEMP_DRIFT`) loses little at first and then faster as the
    charge falls below what the evaporator needs: capacity follows 1 - depth * x**2 over
    the ramp, x the fraction of the ramp elapsed.
    """
    out = np.ones_like(ts, dtype=np.float64)
    if fault is None or fault.code is not FaultCode.FRIDGE_TEMP_DRIFT:
        return out
    depth = (1.0 - DRIFT_FLOOR_AT_FULL_SEVERITY) * fault.severity
    x = np.clip((ts - fault.onset_ts) / DRIFT_RAMP_S, 0.0, 1.0)
    return out - depth * x * x


def compressor_ok(fault: FaultSpec | None, ts: FloatArray) -> BoolArray:
    """Whether the compressor can run at each event time (False once it has failed)."""
    if fault is None or fault.code is not FaultCode.FRIDGE_COMPRESSOR_FAILURE:
        return np.ones_like(ts, dtype=np.bool_)
    return np.asarray(ts < fault.onset_ts)


def seal_leak_ua(fault: FaultSpec | None, ts: FloatArray) -> FloatArray:
    """Conductance (W/K, sensible plus latent) of the leak past the door seal at `ts`."""
    out = np.zeros_like(ts, dtype=np.float64)
    if fault is None or fault.code is not FaultCode.FRIDGE_DOOR_SEAL_LEAK:
        return out
    x = np.clip((ts - fault.onset_ts) / SEAL_WEAR_S, 0.0, 1.0)
    share = SEAL_LEAK_AT_ONSET + (1.0 - SEAL_LEAK_AT_ONSET) * x
    full = SEAL_LEAK_UA_AT_FULL_SEVERITY * fault.severity
    return np.where(ts >= fault.onset_ts, full * share, out)


def seal_ajar_spans(
    fault: FaultSpec | None, opened_ts: FloatArray, closed_ts: FloatArray, seed: int
) -> tuple[FloatArray, FloatArray]:
    """`(starts, ends)` of the times the door rested ajar after the openings
    `[opened_ts, closed_ts)` (sorted, not overlapping); the next opening ends a span.

    Each closing after onset draws on its own generator (unit seed, closing second), so a
    span comes out the same whichever stretch of time is being simulated.
    """
    empty = np.zeros(0, dtype=np.float64)
    if fault is None or fault.code is not FaultCode.FRIDGE_DOOR_SEAL_LEAK or not closed_ts.size:
        return empty, empty
    chance = SEAL_AJAR_CHANCE_AT_FULL_SEVERITY * fault.severity
    following = np.append(opened_ts[1:], np.inf).tolist()
    starts: list[float] = []
    ends: list[float] = []
    for closed, reopened in zip(closed_ts.tolist(), following, strict=True):
        if closed < fault.onset_ts:
            continue
        rng = np.random.default_rng([seed, _STREAM_SEAL, int(closed)])
        if rng.random() < chance:
            starts.append(closed)
            ends.append(min(closed + float(rng.uniform(*SEAL_AJAR_S)), reopened))
    if not starts:
        return empty, empty
    return np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """The label for one injected fault: `end_ts` is None while it is still present."""

    device_id: str
    fault_code: FaultCode
    onset_ts: float
    end_ts: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "device_id": self.device_id,
            "fault_code": self.fault_code.value,
            "onset_ts": self.onset_ts,
            "end_ts": self.end_ts,
        }

    @classmethod
    def from_dict(cls, row: dict[str, object]) -> GroundTruth:
        end = row.get("end_ts")
        return cls(
            device_id=str(row["device_id"]),
            fault_code=FaultCode(str(row["fault_code"])),
            onset_ts=float(row["onset_ts"]),  # type: ignore[arg-type]
            end_ts=None if end is None else float(end),  # type: ignore[arg-type]
        )


def write_ground_truth(path: str | Path, records: Iterable[GroundTruth]) -> int:
    """Write the labels as JSON Lines, one record a line; returns how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record.as_dict(), sort_keys=True) + "\n")
            count += 1
    return count


def read_ground_truth(path: str | Path) -> list[GroundTruth]:
    """Read labels written by `write_ground_truth` (blank lines are skipped)."""
    records = []
    with Path(path).open(encoding="utf-8") as src:
        for number, line in enumerate(src, start=1):
            if not line.strip():
                continue
            try:
                records.append(GroundTruth.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a ground-truth record ({exc})") from exc
    return records
