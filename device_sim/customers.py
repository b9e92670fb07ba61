"""Who owns the simulated devices: households in a few cities, each with several appliances.

A household is one customer at one address: its devices share the location, the service
tier and the preferred language. Households own different types (a fridge, a washer and
an air conditioner, say), as many as the definition's household sizes ask for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from device_sim.fleet_definition import Customers, Region
from domain import DeviceType, Location
from domain.devices import CustomerTier

KM_PER_DEG_LAT = 111.32


@dataclass(frozen=True, slots=True)
class Customer:
    """One household: who they are, where they live, and which devices they own."""

    customer_id: str
    tier: CustomerTier
    language: str
    region: str
    location: Location
    device_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "customer_id": self.customer_id,
            "tier": self.tier.value,
            "language": self.language,
            "region": self.region,
            "location": {"lat": self.location.lat, "lon": self.location.lon},
            "device_ids": list(self.device_ids),
        }


def point_in_disc(lat: float, lon: float, radius_km: float, rng: np.random.Generator) -> Location:
    """A point uniform over the disc (sqrt keeps the density even), rounded to ~1 m."""
    r_km = radius_km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = r_km * math.cos(bearing) / KM_PER_DEG_LAT
    dlon = r_km * math.sin(bearing) / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))
    return Location(round(lat + dlat, 5), round(lon + dlon, 5))


def form_households(
    ids_by_type: Mapping[DeviceType, Sequence[str]],
    spec: Customers,
    regions: Sequence[Region],
    rng: np.random.Generator,
) -> list[Customer]:
    """Group every device into a household, at most one device of each type per household."""
    queues = {t: list(ids) for t, ids in ids_by_type.items() if ids}
    for ids in queues.values():
        rng.shuffle(ids)
    sizes, size_p = _weights(spec.devices_per_household)
    tiers, tier_p = _weights(spec.tiers)
    languages, language_p = _weights(spec.languages)
    region_p = np.array([r.weight for r in regions], dtype=np.float64)
    region_p /= region_p.sum()
    customers: list[Customer] = []
    while queues:
        types = list(queues)
        want = int(sizes[rng.choice(len(sizes), p=size_p)])
        left = np.array([len(queues[t]) for t in types], dtype=np.float64)
        k = min(want, len(types))
        picked = sorted(rng.choice(len(types), size=k, replace=False, p=left / left.sum()))
        owned = []
        for index in picked:
            device_type = types[index]
            owned.append(queues[device_type].pop())
            if not queues[device_type]:
                del queues[device_type]
        region = regions[int(rng.choice(len(regions), p=region_p))]
        customers.append(
            Customer(
                customer_id=f"c-{len(customers) + 1:05d}",
                tier=tiers[rng.choice(len(tiers), p=tier_p)],
                language=str(languages[rng.choice(len(languages), p=language_p)]),
                region=region.name,
                location=point_in_disc(region.lat, region.lon, region.radius_km, rng),
                device_ids=tuple(sorted(owned)),
            )
        )
    return customers


K = TypeVar("K")


def _weights(table: Mapping[K, float]) -> tuple[list[K], npt.NDArray[np.float64]]:
    keys = list(table)
    p = np.array([table[k] for k in keys], dtype=np.float64)
    return keys, p / p.sum()
