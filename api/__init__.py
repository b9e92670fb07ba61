"""Faultline's HTTP API (FastAPI): devices, telemetry history, anomalies, tickets, health."""
