"""The fault catalog: for every fault code, what is probably broken and what to do about it.

Field service copies an entry into the ticket and work order, so a technician arrives
knowing the likely cause, the parts to bring and how long the job takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import DeviceType, FaultCode, Severity
from domain.fault_texts import fault_advice, fault_title

ANY_SKILL = "any"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """The diagnosis that goes with one fault code."""

    fault_code: FaultCode
    title: str
    probable_cause: str
    recommended_action: str
    parts: tuple[str, ...]
    skill: str  # a DeviceType value, or "any"
    repair_minutes: int
    severity: Severity
    customer_advice: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form carried in `Anomaly.diagnosis`."""
        return {
            "fault_code": self.fault_code.value,
            "title": self.title,
            "probable_cause": self.probable_cause,
            "recommended_action": self.recommended_action,
            "parts": list(self.parts),
            "skill": self.skill,
            "repair_minutes": self.repair_minutes,
            "severity": self.severity.label,
            "customer_advice": self.customer_advice,
        }


_FRIDGE = DeviceType.FRIDGE.value
_WASHER = DeviceType.WASHER.value
_AC = DeviceType.AIR_CONDITIONER.value
_BATTERY = DeviceType.BATTERY_PACK.value

_ENTRIES = (
    CatalogEntry(
        FaultCode.FRIDGE_TEMP_DRIFT,
        fault_title(FaultCode.FRIDGE_TEMP_DRIFT),
        "Cooling capacity is falling: the compressor runs almost continuously yet the cabinet "
        "warms. Most often a slow refrigerant leak (corroded evaporator or a cracked joint "
        "at the drier), less often a partly blocked capillary or an iced-up evaporator.",
        "Check the condenser and evaporator fan, look for frost pattern on the evaporator, "
        "measure suction pressure and superheat. Leak-test (electronic detector, then "
        "nitrogen pressure test), repair the leak, replace the filter drier, evacuate and "
        "recharge by weight (R600a) per the rating plate.",
        ("filter drier", "R600a refrigerant charge", "brazing/lokring repair kit", "service valve"),
        _FRIDGE,
        120,
        Severity.HIGH,
        fault_advice(FaultCode.FRIDGE_TEMP_DRIFT),
    ),
    CatalogEntry(
        FaultCode.FRIDGE_COMPRESSOR_FAILURE,
        fault_title(FaultCode.FRIDGE_COMPRESSOR_FAILURE),
        "The compressor has stopped starting although the cabinet is warming: failed start "
        "relay or PTC starter, failed overload protector, open or shorted motor winding, "
        "or a fault on the inverter board driving it.",
        "Check supply to the compressor terminals, the start relay/PTC and overload; "
        "measure winding resistances and insulation to ground; on inverter models read the "
        "board's fault code. Replace the relay/overload or the inverter board; if the "
        "windings are open or grounded, replace the compressor (recover, braze, new drier, "
        "evacuate, recharge).",
        (
            "start relay / PTC starter",
            "overload protector",
            "inverter control board",
            "compressor (if windings failed)",
            "filter drier",
        ),
        _FRIDGE,
        150,
        Severity.CRITICAL,
        fault_advice(FaultCode.FRIDGE_COMPRESSOR_FAILURE),
    ),
    CatalogEntry(
        FaultCode.FRIDGE_DOOR_SEAL_LEAK,
        fault_title(FaultCode.FRIDGE_DOOR_SEAL_LEAK),
        "Warm, humid kitchen air is getting in: a torn, hardened or twisted door gasket, a "
        "door that sags on its hinge, or the fridge no longer standing level.",
        "Inspect the gasket with the paper-slip test all round; reseat or replace the "
        "gasket, adjust the hinge and the levelling feet so the door swings shut.",
        ("door gasket", "hinge adjustment kit"),
        _FRIDGE,
        45,
        Severity.MEDIUM,
        fault_advice(FaultCode.FRIDGE_DOOR_SEAL_LEAK),
    ),
    CatalogEntry(
        FaultCode.WASHER_IMBALANCE,
        fault_title(FaultCode.WASHER_IMBALANCE),
        "Excessive vibration at spin, hardest as the drum spins up through the tub's "
        "resonance, with spins aborted and retried: worn or broken shock absorbers or "
        "suspension springs, a loose counterweight, or transit bolts left in on a new "
        "installation.",
        "Check transit bolts, counterweight fixings, shock absorbers and springs; replace "
        "worn dampers in pairs; level the machine.",
        ("shock absorbers (pair)", "suspension springs", "counterweight bolts"),
        _WASHER,
        60,
        Severity.MEDIUM,
        fault_advice(FaultCode.WASHER_IMBALANCE),
    ),
    CatalogEntry(
        FaultCode.WASHER_DRAIN_BLOCKED,
        fault_title(FaultCode.WASHER_DRAIN_BLOCKED),
        "Water is not pumped out in time: a blocked drain filter or hose (coins, hair "
        "clips), a kinked outlet hose, or a failed drain pump.",
        "Clear the pump filter and sump hose, check the outlet hose and standpipe; test the "
        "drain pump and replace it if it is seized or open-circuit.",
        ("drain pump", "sump hose", "filter cap seal"),
        _WASHER,
        45,
        Severity.MEDIUM,
        fault_advice(FaultCode.WASHER_DRAIN_BLOCKED),
    ),
    CatalogEntry(
        FaultCode.WASHER_BEARING_WEAR,
        fault_title(FaultCode.WASHER_BEARING_WEAR),
        "Rising vibration and motor current at speed: worn drum bearings, usually after "
        "the bearing seal let water in.",
        "Confirm by rumble and drum play; replace both drum bearings and the seal (or the "
        "tub assembly on sealed-tub models).",
        ("drum bearing kit (2 bearings + seal)", "tub gasket"),
        _WASHER,
        180,
        Severity.MEDIUM,
        fault_advice(FaultCode.WASHER_BEARING_WEAR),
    ),
    CatalogEntry(
        FaultCode.AC_REFRIGERANT_LOW,
        fault_title(FaultCode.AC_REFRIGERANT_LOW),
        "The unit delivers less cooling per watt than it normally does in the same conditions "
        "(outdoor and room air, compressor power, fan speed): the supply air is not as cold "
        "as it should be and the compressor runs longer. Most often a slow refrigerant leak "
        "at the flare joints or the indoor coil; less often a restriction (filter drier, "
        "expansion valve).",
        "Leak-test flare nuts and coils, repair, evacuate and recharge by weight; check "
        "superheat and subcooling after.",
        ("flare nuts", "R32 refrigerant charge", "leak sealant kit"),
        _AC,
        120,
        Severity.HIGH,
        fault_advice(FaultCode.AC_REFRIGERANT_LOW),
    ),
    CatalogEntry(
        FaultCode.AC_FILTER_CLOGGED,
        fault_title(FaultCode.AC_FILTER_CLOGGED),
        "Pressure drop across the filter, for the fan speed, is far above normal or climbing "
        "much faster than dust normally loads it (renovation dust, pet hair): the filter "
        "needs cleaning, or the indoor coil is fouled. Less air makes the coil cool less.",
        "Clean or replace the filters; inspect and clean the indoor coil and fan wheel.",
        ("air filter set", "coil cleaner"),
        _AC,
        30,
        Severity.LOW,
        fault_advice(FaultCode.AC_FILTER_CLOGGED),
    ),
    CatalogEntry(
        FaultCode.BATTERY_WEAR,
        fault_title(FaultCode.BATTERY_WEAR),
        "Full-charge capacity has faded towards the end-of-life threshold (typically 70-80 % "
        "of design capacity) through cycle and calendar ageing, or one weak cell is fading "
        "far faster than the rest and limits the whole series pack.",
        "Confirm capacity with a full charge-discharge test; schedule a pack replacement "
        "before capacity reaches the end-of-life threshold.",
        ("replacement battery pack",),
        _BATTERY,
        60,
        Severity.MEDIUM,
        fault_advice(FaultCode.BATTERY_WEAR),
    ),
    CatalogEntry(
        FaultCode.BATTERY_OVERHEAT,
        fault_title(FaultCode.BATTERY_OVERHEAT),
        "Cell temperature is abnormally high for the current drawn: an internal short, a "
        "failing cell, a blocked vent or a failed cooling fan.",
        "Isolate the pack; inspect cooling and vents; measure cell voltages and internal "
        "resistance; replace the pack if any cell is out of balance or swollen.",
        ("replacement battery pack", "cooling fan"),
        _BATTERY,
        90,
        Severity.CRITICAL,
        fault_advice(FaultCode.BATTERY_OVERHEAT),
    ),
    CatalogEntry(
        FaultCode.SENSOR_STUCK,
        fault_title(FaultCode.SENSOR_STUCK),
        "A sensor has reported the same value for far longer than physics allows: a failed "
        "sensor, a broken wire or connector, or a frozen controller input.",
        "Compare against a reference probe; check the connector and harness; replace the sensor.",
        ("replacement sensor", "connector/harness repair kit"),
        ANY_SKILL,
        40,
        Severity.MEDIUM,
        fault_advice(FaultCode.SENSOR_STUCK),
    ),
    CatalogEntry(
        FaultCode.SENSOR_OUT_OF_RANGE,
        fault_title(FaultCode.SENSOR_OUT_OF_RANGE),
        "A sensor reports a value outside its physical range: an open or shorted sensor or "
        "wiring, or a corrupted calibration.",
        "Measure the sensor resistance/voltage against its table; repair the harness or "
        "replace the sensor; recalibrate if the firmware allows.",
        ("replacement sensor", "connector/harness repair kit"),
        ANY_SKILL,
        40,
        Severity.MEDIUM,
        fault_advice(FaultCode.SENSOR_OUT_OF_RANGE),
    ),
    CatalogEntry(
        FaultCode.DEVICE_OFFLINE,
        fault_title(FaultCode.DEVICE_OFFLINE),
        "The appliance has stopped reporting: power cut or tripped breaker, Wi-Fi change, "
        "or a failed connectivity module.",
        "Ask the customer to check power and Wi-Fi; if the appliance is powered and the "
        "network is fine, replace the connectivity module.",
        ("Wi-Fi connectivity module",),
        ANY_SKILL,
        30,
        Severity.LOW,
        fault_advice(FaultCode.DEVICE_OFFLINE),
    ),
    CatalogEntry(
        FaultCode.APPLIANCE_ERROR_CODE,
        fault_title(FaultCode.APPLIANCE_ERROR_CODE),
        "The appliance's own controller raised an error code; the service manual's table "
        "for the code gives the likely component.",
        "Look the code up in the model's service manual, run its self-test, and replace "
        "the component it points to.",
        (),
        ANY_SKILL,
        60,
        Severity.MEDIUM,
        fault_advice(FaultCode.APPLIANCE_ERROR_CODE),
    ),
    CatalogEntry(
        FaultCode.UNCLASSIFIED_ANOMALY,
        fault_title(FaultCode.UNCLASSIFIED_ANOMALY),
        "The telemetry departs from this appliance's normal pattern in a way that matches no "
        "known fault signature.",
        "Review the evidence remotely first; if it persists, visit with the standard kit "
        "for the appliance type and run a full diagnostic.",
        (),
        ANY_SKILL,
        60,
        Severity.LOW,
        fault_advice(FaultCode.UNCLASSIFIED_ANOMALY),
    ),
)

CATALOG: dict[FaultCode, CatalogEntry] = {entry.fault_code: entry for entry in _ENTRIES}


def diagnosis_for(code: FaultCode) -> dict[str, Any]:
    """The catalog entry for `code` as the JSON-ready dict an `Anomaly` carries."""
    return CATALOG[code].as_dict()
