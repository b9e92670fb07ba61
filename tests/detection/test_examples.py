"""The docstring examples in detection/ run and say what they show."""

from __future__ import annotations

import doctest

import pytest

import detection.engine
import detection.fridge


@pytest.mark.parametrize("module", [detection.fridge, detection.engine])
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
