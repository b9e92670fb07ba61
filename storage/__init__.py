"""Faultline's stores: the relational database (devices, anomalies, tickets, dead letters)
and the telemetry history."""
