"""Dispatch quality: the batch planner's travel against an exact MILP on generated city instances,
and day routes against brute force. (Timing lives in `faultline bench dispatch`.)"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from faultline.bench_dispatch import compare, generate
from fieldservice import routing
from fieldservice.dispatch import Crew, DispatchRules, Job, eligibility, plan


@pytest.mark.parametrize("seed", [0, 1])
def test_500_tickets_100_technicians_travel_within_5_percent_of_the_exact_optimum(
    seed: int,
) -> None:
    instance = generate(tickets=500, technicians=100, seed=seed)
    result, comparison = compare(instance, travel_only=seed == 0)
    # Same number of jobs placed and reached in time as the exact MILP, and nearly as short.
    assert comparison.ours.placed == comparison.best.placed
    assert comparison.ours.on_time == comparison.best.on_time
    assert comparison.gap < 0.05, comparison
    if comparison.travel_only is not None:
        # The travel-only optimum is shorter only by making urgent jobs late.
        assert comparison.travel_only.on_time < comparison.best.on_time
    # Every assignment respects skill, radius and capacity.
    _, skilled, in_range, _ = eligibility(instance.jobs, instance.crews)
    crews = {crew.technician_id: (j, crew) for j, crew in enumerate(instance.crews)}
    jobs = {job.ticket_id: i for i, job in enumerate(instance.jobs)}
    load: dict[str, int] = {}
    for ticket_id, technician_id in result.assignments.items():
        j, crew = crews[technician_id]
        assert skilled[jobs[ticket_id], j] and in_range[jobs[ticket_id], j]
        load[technician_id] = load.get(technician_id, 0) + 1
        assert load[technician_id] <= crew.slots


def test_travel_only_rules_reach_the_exact_travel_optimum() -> None:
    instance = generate(tickets=300, technicians=60, seed=7)
    rules = DispatchRules(load_km_per_job=0.0, lateness_km_per_hour=0.0)
    _, comparison = compare(instance, rules)
    assert comparison.travel_only is not None
    assert comparison.ours.placed == comparison.travel_only.placed
    assert comparison.ours.km == pytest.approx(comparison.travel_only.km, rel=1e-9)


def test_urgent_job_goes_to_the_technician_on_shift_now_not_tomorrows_nearer_one() -> None:
    now = 1_764_000_000.0
    near_tomorrow = Crew(
        "t-near", 31.230, 121.470, 25, frozenset({"fridge"}), 4, available_from=now + 16 * 3600
    )
    farther_now = Crew("t-now", 31.260, 121.470, 25, frozenset({"fridge"}), 4, available_from=now)
    urgent = Job(1, 31.231, 121.471, "fridge", priority=4, deadline=now + 2 * 3600)
    assert plan([urgent], [near_tomorrow, farther_now]).assignments == {1: "t-now"}
    relaxed = Job(1, 31.231, 121.471, "fridge", priority=1, deadline=now + 48 * 3600)
    assert plan([relaxed], [near_tomorrow, farther_now]).assignments == {1: "t-near"}


def test_scarce_slots_go_to_the_most_urgent_jobs_and_the_rest_are_queued_with_a_reason() -> None:
    crew = Crew("t-1", 31.23, 121.47, 25, frozenset({"fridge"}), slots=2)
    jobs = [
        Job(1, 31.231, 121.471, "fridge", priority=1),
        Job(2, 31.300, 121.470, "fridge", priority=6),
        Job(3, 31.232, 121.472, "fridge", priority=2),
        Job(4, 31.232, 121.472, "washer", priority=9),
        Job(5, 32.500, 121.470, "fridge", priority=9),
    ]
    result = plan(jobs, [crew])
    assert result.assignments == {2: "t-1", 3: "t-1"}
    assert "more urgent or closer" in result.unassigned[1]
    assert "no active technician has the 'washer' skill" in result.unassigned[4]
    assert "nearest, t-1, is 141" in result.unassigned[5]


def test_day_route_from_2opt_matches_brute_force_on_small_days() -> None:
    rng = np.random.default_rng(3)
    base = (31.23, 121.47)
    worst = 0.0
    for _ in range(30):
        stops = [
            routing.Stop(i, 31.23 + rng.uniform(-0.15, 0.15), 121.47 + rng.uniform(-0.15, 0.15))
            for i in range(int(rng.integers(2, 7)))
        ]
        ours = routing.tour_km(base, routing.order(base, stops))
        best = min(routing.tour_km(base, list(p)) for p in itertools.permutations(stops))
        assert ours >= best - 1e-9
        worst = max(worst, ours / best - 1)
    assert worst < 0.05


def test_timetable_promises_two_hour_windows_around_the_arrival() -> None:
    start = 1_764_050_400.0  # 06:00 UTC, on the hour
    stops = [routing.Stop(1, 31.23, 121.57, minutes=60), routing.Stop(2, 31.23, 121.67, minutes=30)]
    visits = routing.timetable((31.23, 121.47), stops, start=start, speed_kmh=30)
    first, second = visits
    assert first.eta == pytest.approx(start + first.km_from_previous / 30 * 3600)
    assert first.window_start <= first.eta < first.window_end
    assert first.window_end - first.window_start == 2 * 3600
    assert second.eta > first.eta + 3600
