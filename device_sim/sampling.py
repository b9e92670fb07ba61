"""How every simulated unit starts drawing its per-unit variation from a seed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from device_sim.faults import FaultSpec, check_injectable
from domain import FaultCode


def start_sample(
    *,
    kind: str,
    seed: int,
    model: str | None,
    models: Sequence[str],
    fault: FaultSpec | None,
    faults: tuple[FaultCode, ...],
) -> tuple[np.random.Generator, str]:
    """The unit's random stream and its model (drawn from it when not given).

    Refuses a fault this `kind` cannot take and a model it does not know, each with the
    choices that would work.
    """
    if fault is not None:
        check_injectable(fault.code, faults, kind)
    rng = np.random.default_rng([seed, 0])
    if model is None:
        model = str(rng.choice(models))
    if model not in models:
        raise ValueError(f"unknown {kind} model {model!r}; known: {', '.join(models)}")
    return rng, model


def draw_ranges(
    rng: np.random.Generator, ranges: Mapping[str, tuple[float, float]]
) -> dict[str, float]:
    """One uniform draw per parameter from its `(low, high)` range, in the mapping's order."""
    return {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in ranges.items()}
