"""The fieldservice package's exceptions: one base, converted to HTTP statuses in `api/`."""

from __future__ import annotations


class FieldServiceError(Exception):
    """A field-service operation was refused; the message says why and what to do."""


class UnknownDeviceError(FieldServiceError):
    """An anomaly or ticket names a device that was never provisioned."""
