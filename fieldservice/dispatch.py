"""Technician dispatch: who takes which job, chosen for a whole batch of open tickets at once.

Pure: jobs and technicians in, a plan out. The batch is a min-cost assignment solved
exactly by `scipy.optimize.linear_sum_assignment` on a cost matrix with one column per
free slot (each technician replicated by remaining capacity). A job may go only to a
technician with the skill, whose service radius covers the address and who has a slot
left. Cost is the travel from the technician's base (haversine km) plus:

- workload: `load_km_per_job` per job already on that technician's day, so with travel
  nearly equal the less busy one wins;
- urgency: `lateness_km_per_hour` per hour the earliest arrival misses the ticket's
  deadline, so an urgent job goes to someone on shift now;
- priority: `priority_km` per priority point, subtracted per job. A constant per row
  changes nothing while every job can be placed; when slots run short it decides which
  jobs get them (the urgent ones).

Jobs nobody eligible can take come back unassigned, each with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fieldservice.geo import distance_matrix_km

ANY_SKILL = "any"
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DispatchRules:
    load_km_per_job: float = 0.5
    lateness_km_per_hour: float = 20.0
    priority_km: float = 100.0
    speed_kmh: float = 30.0  # urban driving, door to door
    max_batch: int = 2000  # jobs per round, most urgent first


@dataclass(frozen=True)
class Job:
    ticket_id: int
    lat: float
    lon: float
    skill: str
    priority: float = 0.0
    minutes: int = 60
    deadline: float | None = None  # wall clock: be there by


@dataclass(frozen=True)
class Crew:
    """A technician as dispatch sees them for their next shift."""

    technician_id: str
    lat: float
    lon: float
    radius_km: float
    skills: frozenset[str]
    slots: int  # jobs they can still take on that shift
    booked: int = 0  # jobs already on it
    available_from: float = 0.0  # wall clock: when they can set off


@dataclass(frozen=True)
class Plan:
    assignments: dict[int, str]  # ticket id -> technician id
    unassigned: dict[int, str]  # ticket id -> why
    travel_km: dict[int, float]  # ticket id -> km from the technician's base

    @property
    def total_km(self) -> float:
        return float(sum(self.travel_km.values()))


def plan(jobs: Sequence[Job], crews: Sequence[Crew], rules: DispatchRules | None = None) -> Plan:
    """Assign as many jobs as possible at the least total cost (see the module docstring)."""
    rules = rules or DispatchRules()
    if not jobs:
        return Plan({}, {}, {})
    ordered = sorted(jobs, key=lambda job: -job.priority)
    batch, overflow = ordered[: rules.max_batch], ordered[rules.max_batch :]
    if not crews:
        unassigned = {job.ticket_id: "no active technicians" for job in jobs}
        return Plan({}, unassigned, {})
    distance, skilled, in_range, eligible = eligibility(batch, crews)
    cost, owner = _cost_matrix(batch, crews, distance, eligible, rules)
    assignments: dict[int, str] = {}
    travel: dict[int, float] = {}
    if cost.shape[1]:
        # Imported here: scipy.optimize takes a second to load, and processes that only
        # deliver notifications never dispatch.
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(cost)
        for i, c in zip(rows.tolist(), cols.tolist(), strict=True):
            j = int(owner[c])
            if eligible[i, j]:
                assignments[batch[i].ticket_id] = crews[j].technician_id
                travel[batch[i].ticket_id] = float(distance[i, j])
    unassigned = {
        job.ticket_id: _reason(i, job, crews, distance, skilled, in_range, eligible)
        for i, job in enumerate(batch)
        if job.ticket_id not in assignments
    }
    for job in overflow:
        unassigned[job.ticket_id] = f"more than {rules.max_batch} jobs waiting: next round"
    return Plan(assignments, unassigned, travel)


def eligibility(
    jobs: Sequence[Job], crews: Sequence[Crew]
) -> tuple[FloatArray, BoolArray, BoolArray, BoolArray]:
    """Jobs × crews: km base→job, has the skill, within radius, all that and a free slot."""
    distance = distance_matrix_km(
        np.array([job.lat for job in jobs]),
        np.array([job.lon for job in jobs]),
        np.array([crew.lat for crew in crews]),
        np.array([crew.lon for crew in crews]),
    )
    skills = sorted({job.skill for job in jobs})
    has = {
        skill: np.array([skill == ANY_SKILL or skill in crew.skills for crew in crews])
        for skill in skills
    }
    skilled = np.stack([has[job.skill] for job in jobs])
    in_range = distance <= np.array([crew.radius_km for crew in crews])[None, :]
    free = np.array([crew.slots > 0 for crew in crews])[None, :]
    return distance, skilled, in_range, skilled & in_range & free


def _cost_matrix(
    jobs: Sequence[Job],
    crews: Sequence[Crew],
    distance: FloatArray,
    eligible: BoolArray,
    rules: DispatchRules,
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    n = len(jobs)
    base = distance.copy()
    deadlines = np.array([np.inf if job.deadline is None else job.deadline for job in jobs])
    starts = np.array([crew.available_from for crew in crews])
    arrival = starts[None, :] + distance / rules.speed_kmh * 3600.0
    late_h = np.maximum(0.0, arrival - deadlines[:, None]) / 3600.0
    base += rules.lateness_km_per_hour * late_h
    base -= rules.priority_km * np.array([job.priority for job in jobs])[:, None]
    # Only as many copies of a technician as they have slots and could possibly use.
    reps = np.minimum(
        np.array([max(crew.slots, 0) for crew in crews]), eligible.sum(axis=0)
    ).astype(np.int64)
    owner = np.repeat(np.arange(len(crews)), reps)
    slot = np.concatenate([np.arange(r) for r in reps]) if reps.sum() else np.zeros(0, np.int64)
    booked = np.array([crew.booked for crew in crews])
    cost = base[:, owner] + rules.load_km_per_job * (booked[owner] + slot)[None, :]
    # Ineligible pairs cost more than any feasible plan, so the solver uses them only to
    # fill a square problem; they are dropped afterwards.
    big = 1e6 + float(np.abs(cost[eligible[:, owner]]).sum()) if n else 1e6
    cost[~eligible[:, owner]] = big
    return cost, owner


def _reason(
    i: int,
    job: Job,
    crews: Sequence[Crew],
    distance: FloatArray,
    skilled: BoolArray,
    in_range: BoolArray,
    eligible: BoolArray,
) -> str:
    if not skilled[i].any():
        return f"no active technician has the '{job.skill}' skill"
    reachable = skilled[i] & in_range[i]
    if not reachable.any():
        candidates = np.flatnonzero(skilled[i])
        j = int(candidates[np.argmin(distance[i, candidates])])
        return (
            f"no '{job.skill}' technician covers this address: the nearest, "
            f"{crews[j].technician_id}, is {distance[i, j]:.1f} km away "
            f"(radius {crews[j].radius_km:.0f} km)"
        )
    if not eligible[i].any():
        names = ", ".join(crews[j].technician_id for j in np.flatnonzero(reachable)[:5])
        return (
            f"every '{job.skill}' technician in range ({names}) is fully booked for the next shift"
        )
    return "the free slots of the technicians in range went to more urgent or closer jobs"
