"""`faultline bench dispatch`: batch dispatch quality against an exact MILP, and its speed.

Generates seeded city-sized instances (tickets and technicians around Shanghai, mixed
skills, radii, capacities and shifts; a fifth of the jobs due within 2 h), plans them with
`fieldservice.dispatch.plan`, and solves the same problem exactly with
`scipy.optimize.milp` (HiGHS): most jobs placed, then most of them reached before their
deadline, then least total travel. Prints our travel's gap to that optimum, the
travel-only optimum (deadlines ignored) for comparison, and the timings.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from fieldservice.dispatch import Crew, DispatchRules, Job, Plan, eligibility, plan

CENTRE = (31.23, 121.47)
CITY_RADIUS_KM = 30.0
SKILLS = ("fridge", "washer", "air_conditioner", "battery_pack")
_KM_PER_DEG = 111.32


@dataclass(frozen=True)
class Instance:
    jobs: list[Job]
    crews: list[Crew]


def generate(*, tickets: int, technicians: int, seed: int, now: float = 0.0) -> Instance:
    """A reproducible dispatch problem: uniform addresses over a 30 km disc, mixed crews."""
    rng = np.random.default_rng(seed)

    def point() -> tuple[float, float]:
        r = CITY_RADIUS_KM * math.sqrt(rng.random())
        bearing = rng.uniform(0, 2 * math.pi)
        lat = CENTRE[0] + r * math.cos(bearing) / _KM_PER_DEG
        lon = CENTRE[1] + r * math.sin(bearing) / (_KM_PER_DEG * math.cos(math.radians(CENTRE[0])))
        return lat, lon

    crews = []
    for index in range(technicians):
        lat, lon = point()
        count = int(rng.integers(1, 4))
        skills = frozenset(str(s) for s in rng.choice(SKILLS, size=count, replace=False))
        crews.append(
            Crew(
                technician_id=f"t-{index:03d}",
                lat=lat,
                lon=lon,
                radius_km=float(rng.uniform(15, 35)),
                skills=skills,
                slots=int(rng.integers(5, 9)),
                available_from=now + float(rng.choice([0.0, 0.0, 3600.0, 16 * 3600.0])),
            )
        )
    jobs = []
    for index in range(tickets):
        lat, lon = point()
        urgent = rng.random() < 0.2
        jobs.append(
            Job(
                ticket_id=index + 1,
                lat=lat,
                lon=lon,
                skill=str(rng.choice(SKILLS)),
                priority=float(rng.integers(1, 5)),
                minutes=int(rng.choice([45, 60, 90, 120])),
                deadline=now + (2 * 3600.0 if urgent else 48 * 3600.0),
            )
        )
    return Instance(jobs, crews)


def on_time(instance: Instance, rules: DispatchRules | None = None) -> npt.NDArray[np.bool_]:
    """Jobs × crews: would this technician get there before the job's deadline?"""
    rules = rules or DispatchRules()
    distance, _, _, _ = eligibility(instance.jobs, instance.crews)
    starts = np.array([crew.available_from for crew in instance.crews])
    deadlines = np.array([job.deadline or np.inf for job in instance.jobs])
    arrival = starts[None, :] + distance / rules.speed_kmh * 3600.0
    result: npt.NDArray[np.bool_] = arrival <= deadlines[:, None]
    return result


@dataclass(frozen=True)
class Outcome:
    placed: int
    on_time: int  # placed jobs whose technician arrives before the deadline
    km: float


def outcome(instance: Instance, assignments: dict[int, str]) -> Outcome:
    distance, _, _, _ = eligibility(instance.jobs, instance.crews)
    timely = on_time(instance)
    row = {job.ticket_id: i for i, job in enumerate(instance.jobs)}
    col = {crew.technician_id: j for j, crew in enumerate(instance.crews)}
    pairs = [(row[t], col[c]) for t, c in assignments.items()]
    return Outcome(
        placed=len(pairs),
        on_time=sum(bool(timely[i, j]) for i, j in pairs),
        km=float(sum(distance[i, j] for i, j in pairs)),
    )


def exact(instance: Instance, *, sla_aware: bool = True) -> Outcome:
    """The exact optimum by MILP (HiGHS): most jobs placed; then, if `sla_aware`, most of them
    on time; then least total travel. `sla_aware=False` is the pure travel optimum."""
    jobs, crews = instance.jobs, instance.crews
    distance, _, _, eligible = eligibility(jobs, crews)
    timely = on_time(instance)
    rows, cols = np.nonzero(eligible)
    if rows.size == 0:
        return Outcome(0, 0, 0.0)
    km = distance[rows, cols]
    step = 10.0 * (float(km.sum()) + 1.0)  # one more job on time beats any travel saving
    cost = km - step * (len(jobs) + 1) - (step * timely[rows, cols] if sla_aware else 0.0)
    variables = rows.size
    per_job = coo_matrix((np.ones(variables), (rows, np.arange(variables))), (len(jobs), variables))
    per_crew = coo_matrix(
        (np.ones(variables), (cols, np.arange(variables))), (len(crews), variables)
    )
    slots = np.array([crew.slots for crew in crews], dtype=float)
    result = milp(
        c=cost,
        constraints=[
            LinearConstraint(per_job.tocsr(), 0, 1),
            LinearConstraint(per_crew.tocsr(), 0, slots),
        ],
        integrality=np.ones(variables),
        bounds=Bounds(0, 1),
    )
    if not result.success:
        raise RuntimeError(f"the exact solver failed: {result.message}")
    chosen = result.x > 0.5
    return Outcome(
        int(chosen.sum()), int(timely[rows, cols][chosen].sum()), float(km[chosen].sum())
    )


@dataclass(frozen=True)
class Comparison:
    ours: Outcome
    best: Outcome  # exact, SLA-aware: the same problem ours solves
    travel_only: Outcome | None  # exact, ignoring deadlines: the shortest possible
    plan_s: float
    exact_s: float

    @property
    def gap(self) -> float:
        """Our travel over the exact SLA-aware optimum's, minus one."""
        return self.ours.km / self.best.km - 1.0 if self.best.km else 0.0

    @property
    def sla_price(self) -> float:
        """How much longer the SLA-aware optimum drives than the travel-only one."""
        if self.travel_only is None or not self.travel_only.km:
            return 0.0
        return self.best.km / self.travel_only.km - 1.0


def compare(
    instance: Instance, rules: DispatchRules | None = None, *, travel_only: bool = True
) -> tuple[Plan, Comparison]:
    started = time.perf_counter()
    result = plan(instance.jobs, instance.crews, rules)
    plan_s = time.perf_counter() - started
    started = time.perf_counter()
    best = exact(instance, sla_aware=True)
    exact_s = time.perf_counter() - started
    shortest = exact(instance, sla_aware=False) if travel_only else None
    return result, Comparison(
        outcome(instance, result.assignments), best, shortest, plan_s, exact_s
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tickets", type=int, default=500, help="open tickets per instance")
    parser.add_argument("--technicians", type=int, default=100, help="technicians per instance")
    parser.add_argument("--seeds", type=int, default=3, help="instances to generate")


def run(args: argparse.Namespace) -> int:
    print(f"dispatch: {args.tickets} tickets, {args.technicians} technicians")
    print(
        f"{'seed':>4} {'placed':>6} {'on time':>7} {'km':>8} | {'exact':>6} {'on time':>7} "
        f"{'km':>8} {'gap':>6} | {'travel-only km':>14} {'late':>4} | {'plan s':>6} {'exact s':>7}"
    )
    worst, slowest = 0.0, 0.0
    for seed in range(args.seeds):
        instance = generate(tickets=args.tickets, technicians=args.technicians, seed=seed)
        _, c = compare(instance)
        worst, slowest = max(worst, c.gap), max(slowest, c.plan_s)
        assert c.travel_only is not None
        late = c.travel_only.placed - c.travel_only.on_time
        print(
            f"{seed:>4} {c.ours.placed:>6} {c.ours.on_time:>7} {c.ours.km:>8.1f} | "
            f"{c.best.placed:>6} {c.best.on_time:>7} {c.best.km:>8.1f} {c.gap:>6.2%} | "
            f"{c.travel_only.km:>14.1f} {late:>4} | {c.plan_s:>6.3f} {c.exact_s:>7.3f}"
        )
    print(f"worst gap to the exact optimum {worst:.2%}; slowest plan {slowest:.3f} s")
    return 0
