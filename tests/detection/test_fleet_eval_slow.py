"""The issue's bar, on a fleet of 1,000 devices over 14 days with a seed nobody tuned on:
every fault code at recall and precision >= 0.95, at most one false alarm per 1,000
device-days. Slow (tens of minutes): `pytest -m slow tests/detection/test_fleet_eval_slow.py`,
or the same as a command: `faultline eval fleet --devices 1000 --days 14 --seed 20261126`."""

from __future__ import annotations

import pytest

from detection.evaluation import format_report
from faultline.eval_fleet import evaluate, train_fleet_model

UNTUNED_SEED = 20261126


@pytest.mark.slow
def test_a_thousand_devices_for_two_weeks_meet_the_bar() -> None:
    model = train_fleet_model(devices=300, days=3.0, seed=UNTUNED_SEED + 7919)
    result = evaluate(devices=1000, days=14.0, seed=UNTUNED_SEED, fleet_model=model)
    print(format_report(result.report))
    assert result.report.meets(recall=0.95, precision=0.95, false_per_kdd=1.0)
