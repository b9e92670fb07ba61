"""Cohort surveillance for the desk: fault rates by model, batch and region, flagged when
significantly higher than the rest of the fleet (false-discovery controlled)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from api.auth import ContextDep, OperatorDep
from api.deps import SessionDep
from fieldservice import cohorts

router = APIRouter(prefix="/cohorts", tags=["cohorts"])


@router.get("")
def cohort_rates(session: SessionDep, context: ContextDep, _: OperatorDep) -> dict[str, Any]:
    rates = cohorts.surveil(session=session, now=time.time(), config=context.fieldservice)
    return {
        "window_days": context.fieldservice.cohort_window_s / 86400.0,
        "fdr": context.fieldservice.cohort_fdr,
        "items": [
            {
                "dimension": c.dimension,
                "cohort": c.cohort,
                "devices": c.devices,
                "faults": c.faults,
                "exposure_days": round(c.exposure_days, 3),
                "rate_per_1000_days": round(c.rate, 4),
                "rest_rate_per_1000_days": round(c.rest_rate, 4),
                "ratio": None if c.ratio == float("inf") else round(c.ratio, 3),
                "p_value": c.p_value,
                "q_value": c.q_value,
                "flagged": c.flagged,
            }
            for c in rates
        ],
        "next": None,
    }
