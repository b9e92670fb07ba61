"""What the API asks of the broker about a device's identity, handed in by the composition
root (Mosquitto's dynamic security in production; nothing when identity is off)."""

from __future__ import annotations

from typing import Protocol


class DeviceIdentity(Protocol):
    """Issues, replaces and withdraws devices' broker credentials."""

    def issue(self, device_id: str) -> str:
        """A new secret for `device_id` (its broker username is its id); an old one stops
        working."""
        ...

    def revoke(self, device_id: str) -> None:
        """Disconnect the device now and refuse it from now on."""
        ...


class IdentityUnavailable(Exception):
    """The broker could not be told (it is away, or refused); the message says why."""


class IdentityDisabled(Exception):
    """Device identity is off on this service (no broker administrator configured)."""
