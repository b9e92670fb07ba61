"""The fault catalog: for every fault code, what is probably broken and what to do about it.

Field service copies an entry into the ticket and work order, so a technician arrives
knowing the likely cause, the parts to bring and how long the job takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import DeviceType, FaultCode, Severity

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
        "Fridge losing cooling capacity",
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
        "Your fridge is struggling to stay cold. Keep the door closed as much as you can, "
        "move medicines and fresh meat or fish to the coldest shelf or a cool box, and "
        "leave space around the back of the fridge for air to flow.",
    ),
    CatalogEntry(
        FaultCode.FRIDGE_COMPRESSOR_FAILURE,
        "Fridge compressor not running",
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
        "Your fridge has stopped cooling. Keep the doors shut: food stays safe for about four "
        "hours in the fridge and a day in a full freezer. Move medicines and perishables to "
        "a cool box with ice if you can. A technician is on the way.",
    ),
    CatalogEntry(
        FaultCode.FRIDGE_DOOR_SEAL_LEAK,
        "Fridge door seal leaking",
        "Warm, humid kitchen air is getting in: a torn, hardened or twisted door gasket, a "
        "door that sags on its hinge, or the fridge no longer standing level.",
        "Inspect the gasket with the paper-slip test all round; reseat or replace the "
        "gasket, adjust the hinge and the levelling feet so the door swings shut.",
        ("door gasket", "hinge adjustment kit"),
        _FRIDGE,
        45,
        Severity.MEDIUM,
        "Please check the fridge door closes fully and nothing is blocking it. Until the "
        "seal is replaced, avoid opening it more than needed.",
    ),
    CatalogEntry(
        FaultCode.WASHER_IMBALANCE,
        "Washer drum out of balance",
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
        "Your washing machine is shaking more than it should when it spins. Avoid very "
        "small or single heavy loads (one blanket) until it is checked.",
    ),
    CatalogEntry(
        FaultCode.WASHER_DRAIN_BLOCKED,
        "Washer not draining",
        "Water is not pumped out in time: a blocked drain filter or hose (coins, hair "
        "clips), a kinked outlet hose, or a failed drain pump.",
        "Clear the pump filter and sump hose, check the outlet hose and standpipe; test the "
        "drain pump and replace it if it is seized or open-circuit.",
        ("drain pump", "sump hose", "filter cap seal"),
        _WASHER,
        45,
        Severity.MEDIUM,
        "Your washing machine is having trouble draining. Do not start another wash, and "
        "if it has stopped with water inside, keep the door shut. If you are comfortable "
        "doing so, drain it into a tray and clean the small filter behind the front flap.",
    ),
    CatalogEntry(
        FaultCode.WASHER_BEARING_WEAR,
        "Washer drum bearings wearing",
        "Rising vibration and motor current at speed: worn drum bearings, usually after "
        "the bearing seal let water in.",
        "Confirm by rumble and drum play; replace both drum bearings and the seal (or the "
        "tub assembly on sealed-tub models).",
        ("drum bearing kit (2 bearings + seal)", "tub gasket"),
        _WASHER,
        180,
        Severity.MEDIUM,
        "Your washing machine's drum bearings are wearing out. It can still be used for "
        "now; a technician will replace them before they fail.",
    ),
    CatalogEntry(
        FaultCode.AC_REFRIGERANT_LOW,
        "Air conditioner low on refrigerant",
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
        "Your air conditioner is cooling less well than it should. It is safe to keep using "
        "it; a technician will find and fix the leak.",
    ),
    CatalogEntry(
        FaultCode.AC_FILTER_CLOGGED,
        "Air conditioner filter clogged",
        "Pressure drop across the filter, for the fan speed, is far above normal or climbing "
        "much faster than dust normally loads it (renovation dust, pet hair): the filter "
        "needs cleaning, or the indoor coil is fouled. Less air makes the coil cool less.",
        "Clean or replace the filters; inspect and clean the indoor coil and fan wheel.",
        ("air filter set", "coil cleaner"),
        _AC,
        30,
        Severity.LOW,
        "Your air conditioner's filter needs cleaning. You can rinse it under the tap and "
        "let it dry before refitting; we will check it at the next visit.",
    ),
    CatalogEntry(
        FaultCode.BATTERY_WEAR,
        "Battery pack nearing end of life",
        "Full-charge capacity has faded towards the end-of-life threshold (typically 70-80 % "
        "of design capacity) through cycle and calendar ageing, or one weak cell is fading "
        "far faster than the rest and limits the whole series pack.",
        "Confirm capacity with a full charge-discharge test; schedule a pack replacement "
        "before capacity reaches the end-of-life threshold.",
        ("replacement battery pack",),
        _BATTERY,
        60,
        Severity.MEDIUM,
        "Your battery holds less charge than it used to and will need replacing soon. It is "
        "safe to keep using; we will contact you to arrange the replacement.",
    ),
    CatalogEntry(
        FaultCode.BATTERY_OVERHEAT,
        "Battery pack overheating",
        "Cell temperature is abnormally high for the current drawn: an internal short, a "
        "failing cell, a blocked vent or a failed cooling fan.",
        "Isolate the pack; inspect cooling and vents; measure cell voltages and internal "
        "resistance; replace the pack if any cell is out of balance or swollen.",
        ("replacement battery pack", "cooling fan"),
        _BATTERY,
        90,
        Severity.CRITICAL,
        "Your battery is running hot. Please stop charging it, unplug it if it is safe to "
        "do so, and keep it away from anything flammable. A technician is on the way.",
    ),
    CatalogEntry(
        FaultCode.SENSOR_STUCK,
        "Sensor reading stuck",
        "A sensor has reported the same value for far longer than physics allows: a failed "
        "sensor, a broken wire or connector, or a frozen controller input.",
        "Compare against a reference probe; check the connector and harness; replace the sensor.",
        ("replacement sensor", "connector/harness repair kit"),
        ANY_SKILL,
        40,
        Severity.MEDIUM,
        "One of your appliance's sensors seems to have stopped working. The appliance may "
        "keep running normally; a technician will replace the sensor.",
    ),
    CatalogEntry(
        FaultCode.SENSOR_OUT_OF_RANGE,
        "Sensor reading out of range",
        "A sensor reports a value outside its physical range: an open or shorted sensor or "
        "wiring, or a corrupted calibration.",
        "Measure the sensor resistance/voltage against its table; repair the harness or "
        "replace the sensor; recalibrate if the firmware allows.",
        ("replacement sensor", "connector/harness repair kit"),
        ANY_SKILL,
        40,
        Severity.MEDIUM,
        "One of your appliance's sensors is giving impossible readings. We will check it; "
        "in the meantime the appliance may behave oddly.",
    ),
    CatalogEntry(
        FaultCode.DEVICE_OFFLINE,
        "Appliance offline",
        "The appliance has stopped reporting: power cut or tripped breaker, Wi-Fi change, "
        "or a failed connectivity module.",
        "Ask the customer to check power and Wi-Fi; if the appliance is powered and the "
        "network is fine, replace the connectivity module.",
        ("Wi-Fi connectivity module",),
        ANY_SKILL,
        30,
        Severity.LOW,
        "We have lost contact with your appliance. Please check it has power and that your "
        "Wi-Fi is working; if it is running normally there is nothing else to do.",
    ),
    CatalogEntry(
        FaultCode.APPLIANCE_ERROR_CODE,
        "Appliance reported an error code",
        "The appliance's own controller raised an error code; the service manual's table "
        "for the code gives the likely component.",
        "Look the code up in the model's service manual, run its self-test, and replace "
        "the component it points to.",
        (),
        ANY_SKILL,
        60,
        Severity.MEDIUM,
        "Your appliance has reported a fault code. We are looking into it and will be in "
        "touch if a visit is needed.",
    ),
    CatalogEntry(
        FaultCode.UNCLASSIFIED_ANOMALY,
        "Unusual behaviour, not yet diagnosed",
        "The telemetry departs from this appliance's normal pattern in a way that matches no "
        "known fault signature.",
        "Review the evidence remotely first; if it persists, visit with the standard kit "
        "for the appliance type and run a full diagnostic.",
        (),
        ANY_SKILL,
        60,
        Severity.LOW,
        "We have noticed something unusual in how your appliance is running. There is "
        "nothing you need to do; we will contact you if it needs attention.",
    ),
)

CATALOG: dict[FaultCode, CatalogEntry] = {entry.fault_code: entry for entry in _ENTRIES}


def diagnosis_for(code: FaultCode) -> dict[str, Any]:
    """The catalog entry for `code` as the JSON-ready dict an `Anomaly` carries."""
    return CATALOG[code].as_dict()
