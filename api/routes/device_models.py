"""The device-model catalog: what a maker states about each model (sensor ranges,
reporting interval, rated figures). Operators provision it; detection judges each
device against its model's entry and learns the rest from the device's own history."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field, create_model, field_validator

from api.auth import ContextDep, OperatorDep
from api.deps import SessionDep
from api.errors import NotFound, documented
from api.params import ID_PATTERN
from domain.device_models import RATINGS, DeviceModelSpec
from domain.devices import EXPECTED_METRICS, DeviceType
from storage import device_models

router = APIRouter(prefix="/device-models", tags=["device models"])

ModelPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=128)]
Figure = Annotated[float, Field(strict=True, ge=-1e12, le=1e12, allow_inf_nan=False)]


class _ModelIn(BaseModel):
    # Narrowed per type by `_model_in`.
    type: str
    ranges: dict[str, tuple[float, float]]
    ratings: dict[str, float]
    reporting_interval_s: float | None = Field(
        default=None, gt=0, le=31_536_000, description="how often the model reports, seconds"
    )

    @field_validator("ranges", check_fields=False)
    @classmethod
    def _ordered(cls, ranges: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        """The two bounds in either order: the range is what lies between them."""
        return {name: (min(pair), max(pair)) for name, pair in ranges.items()}

    def to_spec(self, model: str) -> DeviceModelSpec:
        return DeviceModelSpec(
            model=model,
            type=DeviceType(self.type),
            reporting_interval_s=self.reporting_interval_s,
            ranges=dict(self.ranges),
            ratings=dict(self.ratings),
        )


def _model_in(device_type: DeviceType) -> type[_ModelIn]:
    """The body for one type: its own metrics' ranges and its own ratings."""
    metrics: Any = Literal[EXPECTED_METRICS[device_type]]
    names = RATINGS[device_type]
    ratings: Any = dict[Literal[names], Figure] if names else dict[str, Figure]  # type: ignore[valid-type]
    kind: Any = Literal[device_type.value]
    ranges: Any = dict[metrics, tuple[Figure, Figure]]
    return create_model(
        f"{device_type.value.title().replace('_', '')}ModelIn",
        __base__=_ModelIn,
        type=(kind, ...),
        ranges=(
            ranges,
            Field(
                default_factory=dict,
                description=(
                    "per metric, the two bounds (either order) of what a working unit of "
                    "this model can report"
                ),
            ),
        ),
        ratings=(
            ratings,
            Field(
                default_factory=dict,
                max_length=len(names),
                description="rated figures the maker states",
            ),
        ),
    )


_BODIES = tuple(_model_in(t) for t in DeviceType)
DeviceModelIn: Any = Annotated[Union[_BODIES], Field(discriminator="type")]  # noqa: UP007


class DeviceModelOut(BaseModel):
    model: str
    type: DeviceType
    reporting_interval_s: float | None
    ranges: dict[str, tuple[float, float]]
    ratings: dict[str, float]
    updated_at: float


class DeviceModelsOut(BaseModel):
    items: list[DeviceModelOut]
    next: None = Field(default=None, description="always null: the catalog is one page")


def _out(row: device_models.DeviceModelRow) -> DeviceModelOut:
    spec = device_models.to_spec(row)
    return DeviceModelOut(
        model=spec.model,
        type=spec.type,
        reporting_interval_s=spec.reporting_interval_s,
        ranges=dict(spec.ranges),
        ratings=dict(spec.ratings),
        updated_at=row.updated_at if math.isfinite(row.updated_at) else 0.0,
    )


@router.get("", response_model=DeviceModelsOut, responses=documented(403))
def list_device_models(session: SessionDep, _: OperatorDep) -> DeviceModelsOut:
    return DeviceModelsOut(items=[_out(row) for row in device_models.list_all(session=session)])


@router.get("/{model}", response_model=DeviceModelOut, responses=documented(403, 404))
def get_device_model(model: ModelPath, session: SessionDep, _: OperatorDep) -> DeviceModelOut:
    row = device_models.get(session=session, model=model)
    if row is None:
        raise NotFound(f"device model {model}")
    return _out(row)


@router.put("/{model}", response_model=DeviceModelOut, responses=documented(403))
def put_device_model(
    model: ModelPath,
    body: DeviceModelIn,
    session: SessionDep,
    context: ContextDep,
    _: OperatorDep,
) -> DeviceModelOut:
    """Create or replace a model's entry; devices of that model are judged on it from the
    next batch on. An entry that cannot apply to its type (a rating or metric its
    detectors do not have) is refused with the names they do have."""
    spec = body.to_spec(model)
    problem = context.model_spec_error(spec)
    if problem is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, problem)
    row, _created = device_models.put(session=session, spec=spec)
    return _out(row)


@router.delete("/{model}", status_code=status.HTTP_204_NO_CONTENT, responses=documented(403, 404))
def delete_device_model(model: ModelPath, session: SessionDep, _: OperatorDep) -> None:
    if not device_models.delete(session=session, model=model):
        raise NotFound(f"device model {model}")
