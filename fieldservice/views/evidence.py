"""A ticket's evidence chart: the metrics that moved around the fault, the device's own normal
band before onset, and the onset and detection instants, ready for the pages' chart."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from domain import Reading
from fieldservice.config import FieldServiceConfig
from storage.models import TicketRow

ReadingsSource = Callable[[str, float, float], Sequence[Reading]]

# What a technician looks at first on each type, when the evidence names nothing else.
HEADLINE_METRIC: Mapping[str, str] = {
    "fridge": "cabinet_temp_c",
    "washer": "vibration_g",
    "air_conditioner": "supply_temp_c",
    "battery_pack": "temp_c",
}
MAX_METRICS = 3
MAX_POINTS = 1500
# A metric "moved" when its median after onset is this many normal spreads from before.
MOVED_SPREADS = 2.0
MIN_BASELINE_READINGS = 10


def window(ticket: TicketRow, config: FieldServiceConfig) -> tuple[float, float]:
    """Event time to chart: `chart_lead_s` before onset to a third of that after detection."""
    last = max(ticket.detected_at, ticket.last_detected_at or ticket.detected_at)
    return ticket.onset_at - config.chart_lead_s, last + config.chart_lead_s / 3.0


def for_ticket(
    *, ticket: TicketRow, device_type: str, readings: ReadingsSource, config: FieldServiceConfig
) -> dict[str, Any]:
    start, end = window(ticket, config)
    return chart(
        ticket=ticket, device_type=device_type, readings=readings(ticket.device_id, start, end)
    )


def chart(*, ticket: TicketRow, device_type: str, readings: Sequence[Reading]) -> dict[str, Any]:
    """Series (thinned to at most `MAX_POINTS`), one panel per metric that moved.

    Each metric carries its normal band (5th–95th percentile of the device's readings
    before onset) and, for the metric the detector named, the baseline it compared against.
    """
    diagnosis = dict(ticket.diagnosis or {})
    evidence = dict(diagnosis.get("evidence") or {})
    ordered = sorted(readings, key=lambda r: r.ts)
    names = _metrics(evidence, device_type, ordered, ticket.onset_at)
    step = max(1, -(-len(ordered) // MAX_POINTS))
    shown = ordered[::step]
    ts = [r.ts for r in shown]
    panels = []
    for name in names:
        before = np.array(
            [r.metrics[name] for r in ordered if r.ts < ticket.onset_at and name in r.metrics]
        )
        values = [r.metrics.get(name) for r in shown]
        finite = {float(v) for v in values if v is not None}
        band = None
        if len(before) >= MIN_BASELINE_READINGS:
            low, high = np.percentile(before, [5, 95])
            band = [round(float(low), 4), round(float(high), 4)]
        baseline = evidence.get("baseline") if evidence.get("metric") == name else None
        if not _on_scale(baseline, finite):
            baseline = None  # e.g. "minutes off" against a 0/1 compressor: another unit
        panels.append(
            {
                "name": name,
                "values": values,
                "band": band,
                "baseline": float(baseline) if isinstance(baseline, int | float) else None,
                "binary": finite <= {0.0, 1.0},
            }
        )
    return {
        "ticket_id": ticket.id,
        "device_id": ticket.device_id,
        "fault_code": ticket.fault_code,
        "onset_at": ticket.onset_at,
        "detected_at": ticket.detected_at,
        "ts": ts,
        "metrics": panels,
        "readings": len(ordered),
    }


def _metrics(
    evidence: Mapping[str, Any], device_type: str, readings: Sequence[Reading], onset: float
) -> list[str]:
    """The detector's metric, then the metrics that moved most (median after onset against
    the spread before; a setpoint the evidence mentions but that held still is left out),
    then the type's headline metric."""
    present = {name for r in readings for name in r.metrics}
    chosen: list[str] = []

    def take(name: object) -> None:
        if isinstance(name, str) and name in present and name not in chosen:
            chosen.append(name)

    take(evidence.get("metric"))
    shifts = []
    for name in sorted(present):
        before = np.array([r.metrics[name] for r in readings if r.ts < onset and name in r.metrics])
        after = np.array([r.metrics[name] for r in readings if r.ts >= onset and name in r.metrics])
        if len(before) < MIN_BASELINE_READINGS or len(after) == 0:
            continue
        q25, q75 = np.percentile(before, [25, 75])
        spread = max(float(q75 - q25), 1e-6 + 0.01 * abs(float(np.median(before))))
        shift = abs(float(np.median(after)) - float(np.median(before))) / spread
        if shift >= MOVED_SPREADS:
            # Metrics the evidence names come before others that moved as much.
            shifts.append((name in evidence, shift, name))
    for _, _, name in sorted(shifts, reverse=True):
        take(name)
    take(HEADLINE_METRIC.get(device_type))
    return chosen[:MAX_METRICS]


def _on_scale(value: object, values: set[float]) -> bool:
    """Whether `value` can be drawn on the same axis as `values` (within their range,
    widened by that range on each side)."""
    if not isinstance(value, int | float) or not values:
        return False
    low, high = min(values), max(values)
    span = max(high - low, 1e-9)
    return low - span <= float(value) <= high + span
