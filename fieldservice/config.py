"""Every rule and address field service works by; the composition root builds it from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from fieldservice.dispatch import DispatchRules
from fieldservice.sla import SlaPolicy

DAY_S = 86400.0


@dataclass(frozen=True)
class FieldServiceConfig:
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    dispatch: DispatchRules = field(default_factory=DispatchRules)
    # A fault that comes back within this long after closing reopens the old ticket.
    reopen_window_s: float = 14 * DAY_S
    # Telemetry-verified closure: event time the device must stay normal after a repair.
    closure_quiet_s: float = DAY_S
    # A repair whose fault still shows this long (event time) after the first reading
    # that followed it failed: the ticket reopens and the desk is told.
    closure_verify_s: float = 2 * DAY_S
    # Wall-clock delay from closing a ticket to asking the customer how the visit went.
    follow_up_delay_s: float = DAY_S
    # Faults that often hit a whole home at once (a power cut, the router): hold their
    # dispatch and customer alert `household_hold_s` to see if other appliances follow.
    household_faults: frozenset[str] = frozenset({"DEVICE_OFFLINE"})
    household_hold_s: float = 120.0
    household_window_s: float = 15 * 60.0  # event time between the appliances' faults
    household_radius_km: float = 0.15
    household_min_devices: int = 2
    warranty_years: int = 2
    default_language: str = "en"
    # Addresses: the desk, and an integration webhook that receives every alert.
    desk_email: str | None = None
    webhook_url: str | None = None
    mqtt_prefix: str = "devices"
    # If set, customer MQTT alerts go to f"{customer_topic_prefix}/{customer_id}/alerts"
    # (the companion app) instead of the appliance's own commands topic.
    customer_topic_prefix: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    # Evidence chart: readings from this long before onset to the detection.
    chart_lead_s: float = 6 * 3600.0
    # How long a sign-in link in a work order or an alert works.
    sign_in_link_ttl_s: float = 14 * DAY_S
    # Cohort surveillance: the wall-clock window of fault rates, the false-discovery rate
    # a cohort is flagged at, and how often the desk is told.
    cohort_window_s: float = 30 * DAY_S
    cohort_fdr: float = 0.05
    cohort_every_s: float = 300.0
