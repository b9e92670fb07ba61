"""Appliance controllers raise error codes from their own checks on their signals, miss
some and raise the odd spurious one, at seeded rates."""

from __future__ import annotations

from dataclasses import dataclass

from device_sim import kinds
from device_sim.appliance_errors import ApplianceControllers, ErrorRates
from device_sim.faults import FaultSpec
from domain import DeviceType, FaultCode

DAY = 86400.0
FRIDGE = kinds.kind(DeviceType.FRIDGE)
E21 = FRIDGE.errors[FaultCode.FRIDGE_COMPRESSOR_FAILURE]
NEVER = ErrorRates(missed=0.0, false_per_device_day=0.0)


@dataclass(frozen=True)
class Unit:
    device_id: str
    seed: int
    fault: FaultSpec | None = None


def _units(n: int) -> list[tuple[Unit, kinds.DeviceKind]]:
    return [(Unit(f"fridge-{i:05d}", 1000 + i), FRIDGE) for i in range(n)]


def _codes(controllers: ApplianceControllers) -> list[tuple[float, str, str]]:
    return [(d.at, d.message.device_id, d.message.code) for d in controllers.due(float("inf"))]  # type: ignore[union-attr]


def _report(cabinet: float, compressor: int = 0) -> dict[str, float]:
    return {"cabinet_temp_c": cabinet, "setpoint_c": 4.0, "compressor_on": compressor}


def test_healthy_units_raise_spurious_codes_at_the_configured_rate() -> None:
    rates = ErrorRates(missed=0.3, false_per_device_day=1 / 2000)
    controllers = ApplianceControllers(_units(2000), start_ts=0.0, end_ts=100 * DAY, rates=rates)
    codes = _codes(controllers)
    device_days = 2000 * 100
    assert 70 <= len(codes) <= 130, f"{len(codes)} over {device_days} device-days, expected ~100"
    assert all(0.0 <= at < 100 * DAY and code == "E21" for at, _, code in codes)


def test_a_share_of_units_never_raise_the_code_their_fault_should_trip() -> None:
    rates = ErrorRates(missed=0.3, false_per_device_day=0.0)
    controllers = ApplianceControllers(_units(2000), start_ts=0.0, end_ts=DAY, rates=rates)
    missed = 2000 - len(controllers.checks)
    assert 0.25 < missed / 2000 < 0.35
    for unit, _ in _units(2000)[:50]:
        for ts in range(0, 7200, 60):
            controllers.observe(unit.device_id, float(ts), _report(9.0))
    raised = {device for _, device, _ in _codes(controllers)}
    assert raised == {u.device_id for u, _ in _units(2000)[:50]} & set(controllers.checks)


def test_the_same_seed_gives_the_same_misses_and_spurious_codes() -> None:
    rates = ErrorRates(missed=0.3, false_per_device_day=0.01)
    a = ApplianceControllers(_units(300), start_ts=0.0, end_ts=30 * DAY, rates=rates)
    b = ApplianceControllers(_units(300), start_ts=0.0, end_ts=30 * DAY, rates=rates)
    assert set(a.checks) == set(b.checks)
    assert _codes(a) == _codes(b) != []


def test_a_code_is_raised_only_once_its_check_has_held_for_the_hold_time() -> None:
    controllers = ApplianceControllers(_units(1), start_ts=0.0, end_ts=DAY, rates=NEVER)
    device = "fridge-00000"
    warm_from = 3600.0
    for ts in range(60, 30000, 60):
        # Healthy cycling until `warm_from`, a short break in the warm spell at 5,000 s.
        warm = ts >= warm_from and ts != 5000 - 5000 % 60
        controllers.observe(device, float(ts), _report(9.0 if warm else 4.5, compressor=0))
    (first, *rest) = _codes(controllers)
    restart = 5000 - 5000 % 60 + 60
    assert first[0] == restart + E21.hold_s, "the break restarted the hold"
    assert E21.repeat_s is not None
    assert [at for at, _, _ in rest] == [first[0] + E21.repeat_s], "again after repeat_s"


def test_a_healthy_fridge_cycling_normally_never_trips_its_check() -> None:
    assert not E21.trips(_report(5.2, compressor=0))
    assert not E21.trips(_report(9.0, compressor=1)), "warm but cooling: the compressor runs"
    assert E21.trips(_report(7.0, compressor=0))
