"""Cohort surveillance: fault rates by model, production batch and region, each tested against
the rest of the fleet, with false-discovery control across all cohorts, and a desk notice
when one is significantly high (a bad batch, a model's design flaw, a region's power).

A cohort's faults are tickets opened in the window (wall clock), its exposure the device-days
its devices were in service during it. Under "same rate as the rest", a cohort with exposure
E_c out of E has each of the n faults of cohort and rest fall in it with probability E_c / E,
so k_c ~ Binomial(n, E_c / E): the exact conditional test of two Poisson rates. The one-sided
p-values of every cohort of every dimension go through Benjamini–Hochberg together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fieldservice.config import FieldServiceConfig
from fieldservice.notifications import messages
from storage.models import DeviceRow, TicketRow

DAY_S = 86400.0
DIMENSIONS = ("model", "batch", "region")
# Connectivity, not hardware: a router or a power cut says nothing about a batch.
NOT_HARDWARE = ("DEVICE_OFFLINE",)
# Fewer faults than this is never flagged, however small the cohort.
MIN_FAULTS = 3
REGION_CELL_DEG = 0.5


@dataclass(frozen=True)
class CohortRate:
    dimension: str
    cohort: str
    devices: int
    faults: int
    exposure_days: float
    rest_faults: int
    rest_exposure_days: float
    p_value: float
    q_value: float
    flagged: bool

    @property
    def rate(self) -> float:
        """Faults per 1000 device-days."""
        return 1000.0 * self.faults / self.exposure_days if self.exposure_days else 0.0

    @property
    def rest_rate(self) -> float:
        return (
            1000.0 * self.rest_faults / self.rest_exposure_days if self.rest_exposure_days else 0.0
        )

    @property
    def ratio(self) -> float:
        if self.rest_rate == 0.0:
            return float("inf") if self.rate > 0 else 1.0
        return self.rate / self.rest_rate


def rate_test(faults: int, exposure: float, rest_faults: int, rest_exposure: float) -> float:
    """One-sided p-value that the cohort's fault rate is higher than the rest's.

    >>> rate_test(12, 100.0, 20, 900.0) < 1e-4  # 0.12 against 0.022 per device-day
    True
    >>> round(rate_test(1, 100.0, 9, 900.0), 3)  # exactly the rest's rate
    0.651
    """
    n = faults + rest_faults
    if n == 0 or exposure <= 0 or rest_exposure <= 0:
        return 1.0
    share = exposure / (exposure + rest_exposure)
    return float(stats.binomtest(faults, n, share, alternative="greater").pvalue)


def region_of(lat: float, lon: float) -> str:
    """The half-degree cell a location falls in, named by its centre.

    >>> region_of(31.23, 121.47)
    '31.0N 121.5E'
    """
    cell_lat = round(lat / REGION_CELL_DEG) * REGION_CELL_DEG
    cell_lon = round(lon / REGION_CELL_DEG) * REGION_CELL_DEG
    ns = "N" if cell_lat >= 0 else "S"
    ew = "E" if cell_lon >= 0 else "W"
    return f"{abs(cell_lat):.1f}{ns} {abs(cell_lon):.1f}{ew}"


def surveil(*, session: Session, now: float, config: FieldServiceConfig) -> list[CohortRate]:
    """Every cohort's rate against the rest of the fleet; six grouped queries."""
    since = now - config.cohort_window_s
    counted: list[tuple[str, str, int, int, float]] = []
    for dimension in DIMENSIONS:
        counted += _count(session, dimension, since, now)
    totals: dict[str, tuple[int, float]] = {}
    for dimension, _, _, faults, exposure in counted:
        f, e = totals.get(dimension, (0, 0.0))
        totals[dimension] = (f + faults, e + exposure)
    p_values = []
    for dimension, _, _, faults, exposure in counted:
        all_faults, all_exposure = totals[dimension]
        p_values.append(rate_test(faults, exposure, all_faults - faults, all_exposure - exposure))
    q_values = bh(p_values)
    result = []
    for (dimension, cohort, devices, faults, exposure), p, q in zip(
        counted, p_values, q_values, strict=True
    ):
        all_faults, all_exposure = totals[dimension]
        rest_faults, rest_exposure = all_faults - faults, all_exposure - exposure
        higher = exposure > 0 and (
            rest_exposure <= 0 or faults / exposure > rest_faults / rest_exposure
        )
        result.append(
            CohortRate(
                dimension=dimension,
                cohort=cohort,
                devices=devices,
                faults=faults,
                exposure_days=exposure,
                rest_faults=rest_faults,
                rest_exposure_days=rest_exposure,
                p_value=p,
                q_value=q,
                flagged=bool(higher and faults >= MIN_FAULTS and q <= config.cohort_fdr),
            )
        )
    result.sort(key=lambda c: (not c.flagged, c.q_value, -c.ratio, c.dimension, c.cohort))
    return result


def bh(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the same order."""
    if not p_values:
        return []
    adjusted = stats.false_discovery_control(np.asarray(p_values, dtype=float), method="bh")
    return [float(q) for q in adjusted]


def notify_desk(*, session: Session, now: float, config: FieldServiceConfig) -> list[CohortRate]:
    """Tell the desk about every significantly high cohort, once per cohort and day."""
    flagged = [c for c in surveil(session=session, now=now, config=config) if c.flagged]
    day = datetime.fromtimestamp(now, UTC).date().isoformat()
    for cohort in flagged:
        messages.to_desk(
            session=session,
            kind="cohort_alert",
            key=f"cohort/{cohort.dimension}/{cohort.cohort}/{day}",
            fields={
                "dimension": cohort.dimension,
                "cohort": cohort.cohort,
                "devices": cohort.devices,
                "faults": cohort.faults,
                "exposure_days": f"{cohort.exposure_days:.0f}",
                "rest_rate": f"{cohort.rest_rate:.2f}",
                "ratio": f"{cohort.ratio:.1f}",
                "p_value": f"{cohort.p_value:.2g}",
                "q_value": f"{cohort.q_value:.2g}",
            },
            config=config,
            now=now,
            ticket_id=None,
        )
    return flagged


def _key(dimension: str) -> tuple[Any, ...]:
    if dimension == "model":
        return (DeviceRow.model,)
    if dimension == "batch":
        return (DeviceRow.production_batch,)
    return (
        func.round(DeviceRow.lat / REGION_CELL_DEG),
        func.round(DeviceRow.lon / REGION_CELL_DEG),
    )


def _label(dimension: str, key: tuple[Any, ...]) -> str | None:
    if dimension != "region":
        return None if key[0] is None else str(key[0])
    lat, lon = (float(v) * REGION_CELL_DEG for v in key)
    return region_of(lat, lon)


def _count(
    session: Session, dimension: str, since: float, now: float
) -> list[tuple[str, str, int, int, float]]:
    """(dimension, cohort, devices, faults, device-days) for each cohort of `dimension`."""
    key = _key(dimension)
    in_service_from = case((DeviceRow.created_at > since, DeviceRow.created_at), else_=since)
    exposure = func.sum(now - in_service_from) / DAY_S
    devices = session.execute(
        select(*key, func.count(), exposure).where(DeviceRow.created_at < now).group_by(*key)
    ).all()
    faults = session.execute(
        select(*key, func.count())
        .select_from(TicketRow)
        .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
        .where(TicketRow.opened_at >= since)
        .where(TicketRow.fault_code.not_in(NOT_HARDWARE))
        .group_by(*key)
    ).all()
    width = len(key)
    fault_count: dict[tuple[Any, ...], int] = {tuple(r[:width]): int(r[width]) for r in faults}
    result = []
    for row in devices:
        values = tuple(row[:width])
        label = _label(dimension, values)
        if label is None:
            continue
        count: Any = row[width]
        days: Any = row[width + 1] or 0.0
        count, days = int(count), float(days)
        result.append((dimension, label, count, fault_count.get(values, 0), days))
    return result
