"""Errors raised by ingest."""


class IngestError(Exception):
    """Base of ingest's own errors."""


class BrokerUnreachable(IngestError):
    """The MQTT broker could not be reached at start-up."""
