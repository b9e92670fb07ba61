"""The fieldservice package's exceptions: one base, converted to HTTP statuses in `api/`."""

from __future__ import annotations


class FieldServiceError(Exception):
    """A field-service operation was refused; the message says why and what to do."""


class UnknownDeviceError(FieldServiceError):
    """An anomaly or ticket names a device that was never provisioned."""


class TicketNotFoundError(FieldServiceError):
    """No ticket with that id."""


class UnknownTechnicianError(FieldServiceError):
    """A technician id that was never registered (POST /api/v1/technicians first)."""


class UnknownCustomerError(FieldServiceError):
    """A customer id with no contact record."""


class IllegalTransitionError(FieldServiceError):
    """A status change the ticket lifecycle does not allow from where the ticket is."""


class InvalidRequestError(FieldServiceError):
    """A request that is well-formed but makes no sense (e.g. assigning without a technician)."""


class DeliveryError(FieldServiceError):
    """A notification could not be delivered; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ForbiddenError(FieldServiceError):
    """The signed-in person may not see or do this: it belongs to someone else."""


class DeviceNotFoundError(FieldServiceError):
    """No provisioned device with that id."""
