"""A technician's day as a short round trip: nearest neighbour, then 2-opt, then a timetable.

Days hold a handful of jobs, so plain 2-opt over the closed tour (base → jobs → base)
converges in microseconds and is usually optimal at that size.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fieldservice.geo import FloatArray, distance_matrix_km

HOUR_S = 3600.0


@dataclass(frozen=True)
class Stop:
    key: int  # the ticket id
    lat: float
    lon: float
    minutes: int = 60


@dataclass(frozen=True)
class Visit:
    stop: Stop
    eta: float  # wall clock
    window_start: float
    window_end: float
    km_from_previous: float


def order(base: tuple[float, float], stops: Sequence[Stop]) -> list[Stop]:
    """The stops in a short visiting order for a round trip from and back to `base`."""
    if len(stops) <= 1:
        return list(stops)
    matrix = _matrix(base, stops)
    tour = _nearest_neighbour(matrix)
    tour = _two_opt(matrix, tour)
    return [stops[i - 1] for i in tour[1:]]


def tour_km(base: tuple[float, float], ordered: Sequence[Stop]) -> float:
    """Length of base → stops in this order → base."""
    if not ordered:
        return 0.0
    matrix = _matrix(base, ordered)
    path = [0, *range(1, len(ordered) + 1), 0]
    return float(sum(matrix[a, b] for a, b in itertools.pairwise(path)))


def timetable(
    base: tuple[float, float],
    ordered: Sequence[Stop],
    *,
    start: float,
    speed_kmh: float,
    window_h: float = 2.0,
) -> list[Visit]:
    """When the technician reaches each stop, and the arrival window to promise the customer.

    The window starts at the hour before the expected arrival and lasts `window_h` hours
    (e.g. arrival 14:40 → "14:00–16:00").
    """
    visits = []
    clock = start
    here = base
    for stop in ordered:
        km = float(
            distance_matrix_km(
                np.array([here[0]]), np.array([here[1]]), np.array([stop.lat]), np.array([stop.lon])
            )[0, 0]
        )
        clock += km / speed_kmh * HOUR_S
        window_start = math.floor(clock / HOUR_S) * HOUR_S
        visits.append(Visit(stop, clock, window_start, window_start + window_h * HOUR_S, km))
        clock += stop.minutes * 60.0
        here = (stop.lat, stop.lon)
    return visits


def _matrix(base: tuple[float, float], stops: Sequence[Stop]) -> FloatArray:
    lats = np.array([base[0], *(s.lat for s in stops)])
    lons = np.array([base[1], *(s.lon for s in stops)])
    return distance_matrix_km(lats, lons, lats, lons)


def _nearest_neighbour(matrix: FloatArray) -> list[int]:
    n = matrix.shape[0]
    tour = [0]
    left = set(range(1, n))
    while left:
        here = tour[-1]
        nearest = min(left, key=lambda j: (matrix[here, j], j))
        tour.append(nearest)
        left.remove(nearest)
    return tour


def _two_opt(matrix: FloatArray, tour: list[int]) -> list[int]:
    """Reverse segments while that shortens the closed tour (node 0, the base, stays first)."""
    path = [*tour, 0]
    improved = True
    while improved:
        improved = False
        for i in range(1, len(path) - 2):
            for k in range(i + 1, len(path) - 1):
                a, b, c, d = path[i - 1], path[i], path[k], path[k + 1]
                if matrix[a, c] + matrix[b, d] < matrix[a, b] + matrix[c, d] - 1e-9:
                    path[i : k + 1] = reversed(path[i : k + 1])
                    improved = True
    return path[:-1]
