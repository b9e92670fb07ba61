"""Faultline's shared vocabulary: readings, devices, faults, anomalies and the wire contract."""

from domain.anomalies import Anomaly, AnomalySource, source_of
from domain.devices import DeviceInfo, DeviceType, Location
from domain.faults import FaultCode, Severity
from domain.readings import Reading

__all__ = [
    "Anomaly",
    "AnomalySource",
    "DeviceInfo",
    "DeviceType",
    "FaultCode",
    "Location",
    "Reading",
    "Severity",
    "source_of",
]
