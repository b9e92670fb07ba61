"""Device-model catalog entries turned into the profiles a model's devices are judged on.

The type's profile is the starting point; a model's entry replaces what the maker states:
the rated figures its detectors read (`ratings`, by the profile field's name), each
sensor's physical range, and the silence that counts as offline (from the reporting
interval). A device of a model nobody provisioned keeps its type's profile and learns the
rest from its own history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from detection.detector_set import DetectorSet
from detection.profiles.health import HealthProfile, MetricSpec
from domain import DeviceType
from domain.device_models import DeviceModelSpec


class SpecError(ValueError):
    """A catalog entry that cannot apply to its type (an unknown rating or metric)."""


def ratings_for(detector_set: DetectorSet | None) -> dict[str, str]:
    """The rated figures a type's detectors take from a maker (its profile's `RATINGS`:
    rating name -> profile field); the rest of a profile is how Faultline judges, not
    what a maker states."""
    if detector_set is None:
        return {}
    return dict(getattr(detector_set.profile_type, "RATINGS", {}))


def model_profile(spec: DeviceModelSpec, detector_set: DetectorSet | None, base: object) -> object:
    """The type's detector profile `base` with the model's rated figures."""
    fields = ratings_for(detector_set)
    allowed = set(fields)
    unknown = sorted(set(spec.ratings) - allowed)
    if unknown:
        names = ", ".join(sorted(allowed)) or "none"
        what = ", ".join(unknown)
        raise SpecError(f"no rating {what} for a {spec.type.value}: known are {names}")
    if not spec.ratings:
        return base
    changes = {fields[name]: value for name, value in spec.ratings.items()}
    return dataclasses.replace(base, **changes)  # type: ignore[type-var]


def model_health(spec: DeviceModelSpec, base: HealthProfile) -> HealthProfile:
    """The type's health profile with the model's sensor ranges and reporting interval."""
    known = {m.name for m in base.metrics}
    unknown = sorted(set(spec.ranges) - known)
    if unknown:
        raise SpecError(
            f"no metric {', '.join(unknown)} on a {spec.type.value}: "
            f"known are {', '.join(sorted(known))}"
        )
    for name, (low, high) in spec.ranges.items():
        if not low <= high:
            raise SpecError(f"range of {name}: low {low} is above high {high}")
    metrics = tuple(_ranged(m, spec.ranges) for m in base.metrics)
    changes: dict[str, object] = {"metrics": metrics}
    if spec.reporting_interval_s is not None:
        if spec.reporting_interval_s <= 0:
            raise SpecError("reporting_interval_s must be positive")
        floor = base.offline_cadence_factor * spec.reporting_interval_s
        changes["offline_after_s"] = max(base.offline_after_s, floor)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _ranged(metric: MetricSpec, ranges: Mapping[str, tuple[float, float]]) -> MetricSpec:
    if metric.name not in ranges:
        return metric
    low, high = ranges[metric.name]
    return dataclasses.replace(metric, low=float(low), high=float(high))


def check(
    spec: DeviceModelSpec,
    detector_sets: Mapping[DeviceType, DetectorSet],
    health: Mapping[DeviceType, HealthProfile],
) -> None:
    """Raise `SpecError` if `spec` cannot apply to its type."""
    detector_set = detector_sets.get(spec.type)
    base = detector_set.profile_type() if detector_set is not None else None
    model_profile(spec, detector_set, base)
    model_health(spec, health[spec.type])
