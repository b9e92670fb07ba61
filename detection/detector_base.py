"""What every per-device detector shares: its profile, the state hand-off, the anomaly."""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar, Generic, TypeVar

from detection.catalog import diagnosis_for
from domain import Anomaly, AnomalySource, FaultCode, Reading, Severity

P = TypeVar("P")
D = TypeVar("D", bound="ProfiledDetector[Any]")


def ewma_alpha(dt: float, tau: float, cap: float = math.inf) -> float:
    """EWMA weight of a sample that stands for `dt` seconds (at most `cap`)."""
    return 1.0 - math.exp(-min(dt, cap) / tau)


class ProfiledDetector(Generic[P]):
    """Base of a river-style detector: state lives in attributes ending in `_`.

    Subclasses name the fault they find (`fault_code`, `severity`), the profile class
    they read thresholds from (`profile_type`), and the learned attributes that make up
    their state (`_state_fields`, without the trailing underscore).
    """

    fault_code: ClassVar[FaultCode]
    severity: ClassVar[Severity]
    profile_type: ClassVar[type]
    _state_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, profile: P | None = None) -> None:
        self.profile: P = profile if profile is not None else self.profile_type()

    @classmethod
    def _state_names(cls) -> tuple[str, ...]:
        return cls._state_fields

    def state(self) -> dict[str, Any]:
        """Everything learned so far, JSON-ready; `from_state` resumes from it."""
        return {name: copy.deepcopy(getattr(self, name + "_")) for name in self._state_names()}

    @classmethod
    def from_state(cls: type[D], profile: Any, state: dict[str, Any]) -> D:
        detector = cls(profile)
        for name in cls._state_names():
            if name in state:
                setattr(detector, name + "_", copy.deepcopy(state[name]))
        return detector

    def _anomaly(
        self,
        reading: Reading,
        *,
        onset_at: float,
        confidence: float,
        summary: str,
        evidence: dict[str, Any],
        severity: Severity | None = None,
    ) -> Anomaly:
        """The anomaly this detector reports at `reading`, with the catalog's diagnosis."""
        return Anomaly(
            device_id=reading.device_id,
            fault_code=self.fault_code,
            severity=self.severity if severity is None else severity,
            detected_at=reading.ts,
            onset_at=onset_at,
            confidence=round(min(max(confidence, 0.0), 1.0), 3),
            summary=summary,
            evidence={**evidence, "source": AnomalySource.TELEMETRY.value},
            diagnosis=diagnosis_for(self.fault_code),
        )
