"""Register simulated devices with a running Faultline over its HTTP API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from device_sim.publisher import SimulatorError
from domain import DeviceInfo


@dataclass(frozen=True, slots=True)
class ProvisionStats:
    """How many devices were created, how many Faultline already knew (409), and each
    device's broker secret when Faultline issues device identities (else empty)."""

    created: int
    existing: int
    credentials: dict[str, str] = field(default_factory=dict)


def device_payload(device: DeviceInfo) -> dict[str, Any]:
    """The `POST /api/v1/devices` body for one device."""
    return {
        "device_id": device.device_id,
        "type": device.type.value,
        "model": device.model,
        "customer_id": device.customer_id,
        "location": {"lat": device.location.lat, "lon": device.location.lon},
        "serial": device.serial,
        "production_batch": device.production_batch,
        "firmware": device.firmware,
        "install_date": device.install_date.isoformat() if device.install_date else None,
        "customer_tier": device.customer_tier.value,
    }


def provision(
    devices: Iterable[DeviceInfo], *, base_url: str, token: str, timeout_s: float = 10.0
) -> ProvisionStats:
    """POST each device to `{base_url}/api/v1/devices`; a 409 (already there) is fine."""
    created = existing = 0
    credentials: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {token}"}
    url = base_url.rstrip("/") + "/api/v1/devices"
    with httpx.Client(headers=headers, timeout=timeout_s) as client:
        for device in devices:
            try:
                response = client.post(url, json=device_payload(device))
            except httpx.HTTPError as exc:
                raise SimulatorError(
                    f"cannot provision {device.device_id} at {url}: {exc}"
                ) from exc
            if response.status_code == httpx.codes.CONFLICT:
                existing += 1
                secret = _fresh_secret(client, url, device.device_id)
                if secret is not None:
                    credentials[device.device_id] = secret
            elif response.is_success:
                created += 1
                mqtt = _body(response).get("mqtt")
                if mqtt:
                    credentials[device.device_id] = str(mqtt["password"])
            else:
                raise SimulatorError(
                    f"provisioning {device.device_id} failed: HTTP {response.status_code} "
                    f"{response.text[:300]}"
                )
    return ProvisionStats(created=created, existing=existing, credentials=credentials)


def _fresh_secret(client: httpx.Client, url: str, device_id: str) -> str | None:
    """A known device's secret is never shown again: ask for a new one (None when the
    service issues no device identities)."""
    response = client.post(f"{url}/{device_id}/credentials")
    if response.status_code in (httpx.codes.CONFLICT, httpx.codes.NOT_FOUND):
        return None  # identity off here, or a Faultline from before device identities
    if not response.is_success:
        raise SimulatorError(
            f"new credentials for {device_id} failed: HTTP {response.status_code} "
            f"{response.text[:300]}"
        )
    return str(response.json()["password"])


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
