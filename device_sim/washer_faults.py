"""Injected washer faults: how a failing suspension, drain or drum bearing develops over time.

Each shape turns a `FaultSpec` into one physical quantity at an event time (the share of
the suspension's damping left, the share of the drain's flow left, how worn the drum
bearings are); the washer simulator reads it at the start of every wash cycle, since these
faults develop over days and a cycle lasts a couple of hours.
"""

from __future__ import annotations

import math

from device_sim.faults import FaultSpec
from domain import FaultCode

DAY_S = 86400.0

# The fault shapes the washer simulator can produce.
WASHER_FAULTS: tuple[FaultCode, ...] = (
    FaultCode.WASHER_IMBALANCE,
    FaultCode.WASHER_DRAIN_BLOCKED,
    FaultCode.WASHER_BEARING_WEAR,
)

# Suspension (WASHER_IMBALANCE): a shock absorber's friction pad tears, so at onset half
# the eventual damping is gone at once and the rest wears away over a couple of days.
# With little damping the tub swings hard through its resonance (150-250 rpm) on every
# spin-up, knocks against the cabinet, and the controller aborts the spin.
SUSPENSION_WEAR_S = 2 * DAY_S
SUSPENSION_LOSS_AT_FULL_SEVERITY = 0.8  # share of the damping gone at the end
SUSPENSION_LOSS_AT_ONSET = 0.5  # ...of which this share is gone at onset

# Drain (WASHER_DRAIN_BLOCKED): lint, hair and small objects build up in the pump
# filter, so the flow falls steadily; at high severity something finally lodges (a sock,
# a coin) and the drain is blocked: the pump runs and the water stays.
DRAIN_CLOG_S = 7 * DAY_S
DRAIN_FLOW_LOST_AT_ONSET = 0.3  # at severity 1; the loss grows linearly...
DRAIN_FLOW_LOST_AT_END = 0.75  # ...to this at the end of the clogging
DRAIN_BLOCK_SEVERITY = 0.8  # at or above this severity, blocked after the clogging
DRAIN_BLOCKED_FLOW = 0.03  # what still seeps through

# Drum bearings (WASHER_BEARING_WEAR): water got past the seal; wear starts noticeable
# and accelerates (pitted races wear faster) until the bearing is worn out.
BEARING_RAMP_S = 14 * DAY_S
BEARING_WEAR_AT_ONSET = 0.15
BEARING_ACCELERATION = 3.0  # growth exponent over the ramp: higher is later and steeper


def _elapsed(fault: FaultSpec | None, code: FaultCode, ts: float) -> float | None:
    """Seconds since onset if `fault` is `code` and has begun by `ts`, else None."""
    if fault is None or fault.code is not code or ts < fault.onset_ts:
        return None
    return ts - fault.onset_ts


def suspension_damping(fault: FaultSpec | None, ts: float) -> float:
    """Share of the suspension's damping left at `ts` (1 = as built)."""
    elapsed = _elapsed(fault, FaultCode.WASHER_IMBALANCE, ts)
    if fault is None or elapsed is None:
        return 1.0
    x = min(elapsed / SUSPENSION_WEAR_S, 1.0)
    share = SUSPENSION_LOSS_AT_ONSET + (1.0 - SUSPENSION_LOSS_AT_ONSET) * x
    return 1.0 - SUSPENSION_LOSS_AT_FULL_SEVERITY * fault.severity * share


def drain_flow(fault: FaultSpec | None, ts: float) -> float:
    """Share of the drain's flow left at `ts` (1 = clean filter and hose)."""
    elapsed = _elapsed(fault, FaultCode.WASHER_DRAIN_BLOCKED, ts)
    if fault is None or elapsed is None:
        return 1.0
    x = elapsed / DRAIN_CLOG_S
    if x >= 1.0 and fault.severity >= DRAIN_BLOCK_SEVERITY:
        return DRAIN_BLOCKED_FLOW
    x = min(x, 1.0)
    lost = DRAIN_FLOW_LOST_AT_ONSET + (DRAIN_FLOW_LOST_AT_END - DRAIN_FLOW_LOST_AT_ONSET) * x
    return 1.0 - lost * fault.severity


def bearing_wear(fault: FaultSpec | None, ts: float) -> float:
    """How worn the drum bearings are at `ts`: 0 new, 1 worn out (scaled by severity)."""
    elapsed = _elapsed(fault, FaultCode.WASHER_BEARING_WEAR, ts)
    if fault is None or elapsed is None:
        return 0.0
    x = min(elapsed / BEARING_RAMP_S, 1.0)
    k = BEARING_ACCELERATION
    growth = (math.exp(k * x) - 1.0) / (math.exp(k) - 1.0)
    return fault.severity * (BEARING_WEAR_AT_ONSET + (1.0 - BEARING_WEAR_AT_ONSET) * growth)
