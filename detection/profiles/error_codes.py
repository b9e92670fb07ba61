"""Appliance error-code tables: what each code a device type reports means, how urgent it
is, and which fault it points to (if any). Data only; `detection/error_codes.py` reads it."""

from __future__ import annotations

from dataclasses import dataclass

from domain import DeviceType, FaultCode, Severity


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One code from a service manual. `fault`: the specific fault it proves (the alarm is
    raised under that code, in that fault's stream); None raises APPLIANCE_ERROR_CODE.
    `actionable` False: informational (door left open), recorded as nothing."""

    code: str
    meaning: str
    severity: Severity
    fault: FaultCode | None = None
    actionable: bool = True


def _table(*codes: ErrorCode) -> dict[str, ErrorCode]:
    return {c.code: c for c in codes}


# The codes the appliances in the field raise (device_sim's kinds raise the same).
ERROR_CODES: dict[DeviceType, dict[str, ErrorCode]] = {
    DeviceType.FRIDGE: _table(
        ErrorCode(
            "E21",
            "compressor does not start",
            Severity.CRITICAL,
            FaultCode.FRIDGE_COMPRESSOR_FAILURE,
        ),
        ErrorCode("E22", "evaporator fan motor fault", Severity.HIGH),
        ErrorCode("E31", "defrost heater or defrost sensor fault", Severity.MEDIUM),
        ErrorCode("DO", "door left open", Severity.LOW, actionable=False),
    ),
    DeviceType.WASHER: _table(
        ErrorCode(
            "E-OE",
            "drain error: water not pumped out in time",
            Severity.MEDIUM,
            FaultCode.WASHER_DRAIN_BLOCKED,
        ),
        ErrorCode(
            "E-UE", "unbalanced load: spin aborted", Severity.MEDIUM, FaultCode.WASHER_IMBALANCE
        ),
        ErrorCode("E-IE", "no water intake within the time limit", Severity.MEDIUM),
        ErrorCode("E-LE", "door lock fault", Severity.MEDIUM),
        ErrorCode("E-AE", "water in the base tray: leak", Severity.CRITICAL),
    ),
    DeviceType.AIR_CONDITIONER: _table(
        ErrorCode("E5", "low refrigerant protection", Severity.HIGH, FaultCode.AC_REFRIGERANT_LOW),
        ErrorCode("E1", "high-pressure protection tripped", Severity.HIGH),
        ErrorCode("H6", "indoor fan motor fault", Severity.HIGH),
        ErrorCode("CL", "filter cleaning reminder", Severity.LOW, actionable=False),
    ),
    DeviceType.BATTERY_PACK: _table(
        ErrorCode(
            "BMS-OT",
            "over-temperature: charging suspended",
            Severity.CRITICAL,
            FaultCode.BATTERY_OVERHEAT,
        ),
        ErrorCode("BMS-CI", "cell voltage imbalance", Severity.HIGH),
        ErrorCode("BMS-OV", "over-voltage protection", Severity.HIGH),
        ErrorCode("BMS-COM", "BMS communication fault", Severity.MEDIUM),
    ),
}
