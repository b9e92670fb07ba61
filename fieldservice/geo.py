"""Distances on the Earth's surface: great-circle (haversine) kilometres, one pair or a matrix."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088

FloatArray = npt.NDArray[np.float64]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in km.

    >>> round(haversine_km(31.23, 121.47, 31.23, 121.57), 2)
    9.51
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_matrix_km(
    lat_a: FloatArray, lon_a: FloatArray, lat_b: FloatArray, lon_b: FloatArray
) -> FloatArray:
    """Distances from every point of A (rows) to every point of B (columns), in km."""
    p1 = np.radians(np.asarray(lat_a, dtype=float))[:, None]
    p2 = np.radians(np.asarray(lat_b, dtype=float))[None, :]
    dl = (
        np.radians(np.asarray(lon_b, dtype=float))[None, :]
        - np.radians(np.asarray(lon_a, dtype=float))[:, None]
    )
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result
