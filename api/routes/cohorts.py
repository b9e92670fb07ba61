"""Cohort surveillance for the desk: fault rates by model, batch and region, flagged when
significantly higher than the rest of the fleet (false-discovery controlled)."""

from __future__ import annotations

import math
import time

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth import ContextDep, OperatorDep
from api.deps import SessionDep
from api.errors import documented
from fieldservice import cohorts

router = APIRouter(prefix="/cohorts", tags=["cohorts"])


class CohortRateOut(BaseModel):
    dimension: str
    cohort: str
    devices: int
    faults: int
    exposure_days: float
    rate_per_1000_days: float
    rest_rate_per_1000_days: float
    ratio: float | None = Field(description="null when the rest of the fleet had no faults")
    p_value: float
    q_value: float
    flagged: bool


class CohortRatesOut(BaseModel):
    window_days: float
    fdr: float = Field(description="the false-discovery rate the flags are controlled at")
    items: list[CohortRateOut]
    next: None = Field(default=None, description="always null: every cohort is on one page")


def _rate(c: cohorts.CohortRate) -> CohortRateOut:
    return CohortRateOut(
        dimension=c.dimension,
        cohort=c.cohort,
        devices=c.devices,
        faults=c.faults,
        exposure_days=round(c.exposure_days, 3),
        rate_per_1000_days=round(c.rate, 4),
        rest_rate_per_1000_days=round(c.rest_rate, 4),
        ratio=round(c.ratio, 3) if math.isfinite(c.ratio) else None,
        p_value=c.p_value,
        q_value=c.q_value,
        flagged=c.flagged,
    )


@router.get("", response_model=CohortRatesOut, responses=documented(403))
def cohort_rates(session: SessionDep, context: ContextDep, _: OperatorDep) -> CohortRatesOut:
    rates = cohorts.surveil(session=session, now=time.time(), config=context.fieldservice)
    return CohortRatesOut(
        window_days=context.fieldservice.cohort_window_s / 86400.0,
        fdr=context.fieldservice.cohort_fdr,
        items=[_rate(c) for c in rates],
    )
