"""The docstring examples of the detection core (hygiene, sensors, offline, error codes,
fleet model, evaluation) run and say what they show."""

from __future__ import annotations

import doctest

import pytest

import detection.error_codes
import detection.evaluation
import detection.fleet_model
import detection.hygiene
import detection.offline
import detection.sensor


@pytest.mark.parametrize(
    "module",
    [
        detection.hygiene,
        detection.sensor,
        detection.offline,
        detection.error_codes,
        detection.fleet_model,
        detection.evaluation,
    ],
)
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
