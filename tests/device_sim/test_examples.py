"""The docstring examples in device_sim/ run and say what they show."""

from __future__ import annotations

import doctest

import device_sim.scenario


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(device_sim.scenario)
    assert result.attempted > 0
    assert result.failed == 0
