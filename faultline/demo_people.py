"""The demo's people: technicians around the simulated fleet and a contact record for every
customer, registered over the HTTP API like a real desk would, and the sign-in links the
demo prints (one per role) so a newcomer can open each door."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from domain import DeviceInfo

# All-day, every-day hours: the demo runs whenever it is started and someone is on shift.
ALL_DAY = {"start": "00:00", "end": "24:00", "weekdays": [0, 1, 2, 3, 4, 5, 6]}
TECHNICIANS = (
    ("t-01", "Wang Wei", "+86 138 0000 0101"),
    ("t-02", "Sato Yui", "+86 138 0000 0102"),
    ("t-03", "Maria Lopez", "+86 138 0000 0103"),
)
CUSTOMER_NAMES = ("Li Na", "Tanaka Hiro", "Emma Brown", "Zhang Min", "Suzuki Aoi", "Oliver Chen")
LANGUAGES = ("zh", "ja", "en")
KM_PER_DEG = 111.2


@dataclass(frozen=True)
class DemoPeople:
    technicians: list[str]  # ids; the first is based at the first faulty device
    customers: list[str]
    technician_tokens: dict[str, str]  # API tokens the simulated crew acts with


def seed(client: httpx.Client, devices: Sequence[DeviceInfo], first: DeviceInfo) -> DemoPeople:
    """Register three technicians and every device owner's contact record.

    `client` is signed in as the operator. t-01 is based a kilometre from `first` (the
    device whose fault opens the demo), so dispatch sends t-01 there; the others cover the
    rest of the city from further out.
    """
    bases = [
        _offset(first.location.lat, first.location.lon, 1.0, 45.0),
        *_spread(devices, count=len(TECHNICIANS) - 1),
    ]
    technicians = []
    for (technician_id, name, phone), (lat, lon) in zip(TECHNICIANS, bases, strict=True):
        _ok(
            client.post(
                "/api/v1/technicians",
                json={
                    "technician_id": technician_id,
                    "name": name,
                    "skills": ["fridge", "washer", "air_conditioner", "battery_pack"],
                    "base": {"lat": round(lat, 5), "lon": round(lon, 5)},
                    "radius_km": 60,
                    "working_hours": ALL_DAY,
                    "daily_capacity": 8,
                    "contact": {"phone": phone},
                },
            ),
            (201, 409),
        )
        technicians.append(technician_id)
    owners = list(dict.fromkeys(d.customer_id for d in devices))
    home = {d.customer_id: d for d in devices}
    names = itertools.cycle(CUSTOMER_NAMES)
    for index, customer_id in enumerate(owners):
        device = home[customer_id]
        _ok(
            client.put(
                f"/api/v1/customers/{customer_id}",
                json={
                    "name": next(names),
                    "phone": f"+86 139 {index // 10000:04d} {index % 10000:04d}",
                    "language": LANGUAGES[index % len(LANGUAGES)],
                    # The embedded broker delivers to the appliance's display: no mail server.
                    "channels": ["mqtt"],
                    "address": f"{device.location.lat:.4f}N {device.location.lon:.4f}E",
                    "access_notes": "ring twice; the dog is friendly",
                },
            ),
            (200,),
        )
    tokens = {}
    for technician_id in technicians:
        response = client.post(
            "/api/v1/tokens",
            json={"role": "technician", "subject": technician_id, "label": "demo crew"},
        )
        _ok(response, (201,))
        tokens[technician_id] = response.json()["token"]
    return DemoPeople(technicians, owners, tokens)


def sign_in_link(client: httpx.Client, role: str, subject: str, next_path: str) -> str:
    response = client.post(
        "/api/v1/tokens",
        json={"role": role, "subject": subject, "kind": "link", "next": next_path, "ttl_days": 1},
    )
    _ok(response, (201,))
    url: str = response.json()["sign_in_url"]
    return url


def _offset(lat: float, lon: float, km: float, bearing_deg: float) -> tuple[float, float]:
    bearing = math.radians(bearing_deg)
    return (
        lat + km * math.cos(bearing) / KM_PER_DEG,
        lon + km * math.sin(bearing) / (KM_PER_DEG * math.cos(math.radians(lat))),
    )


def _spread(devices: Sequence[DeviceInfo], *, count: int) -> list[tuple[float, float]]:
    """Bases around the fleet's centre, on opposite sides, about 12 km out."""
    lat = sum(d.location.lat for d in devices) / len(devices)
    lon = sum(d.location.lon for d in devices) / len(devices)
    return [_offset(lat, lon, 12.0, 200.0 + i * 360.0 / max(count, 1)) for i in range(count)]


def _ok(response: httpx.Response, expected: tuple[int, ...]) -> None:
    if response.status_code not in expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"HTTP {response.status_code} {response.text[:300]}"
        )
