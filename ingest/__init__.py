"""Telemetry ingest: MQTT subscription, validation, de-duplication, batching, dead-lettering."""
