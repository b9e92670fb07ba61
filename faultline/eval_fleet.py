"""`faultline eval fleet`: simulate a labelled fleet, run it through the detection engine
offline (no broker, no database) and print precision, recall, delay and false alarms per
fault code.

The fleet is a fleet definition (`device_sim/fleets/*.yaml`, the packaged `default` mix
of every device type unless `--fleet` names another) scaled to `--devices` and `--days`.
Messages reach the engine as the broker would deliver them: sensor faults, appliance
error codes, outages with backlogs and last wills, and the definition's network
imperfections (drops, duplicates, reordering, clock skew). The fleet model is trained
first on a separate, healthy fleet (another seed), never on the fleet it is graded on.

The appliances' own error codes come from their controllers' checks on the simulated
signals (with missed and spurious codes), so they are evidence, not the answer; the same
fleet is also scored on telemetry alone (no error codes, no fleet model), printed beside.
`--robust` grades units built ±20 % away from the parameters the detectors were built
on, in shifted climates, reporting every 30-120 s (`device_sim/robustness.py`).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from detection.engine import DetectionEngine
from detection.evaluation import Episode, EvalReport, format_report, score
from detection.fleet_model import FleetModel
from detection.fleet_training import FleetRows
from device_sim import scenario
from device_sim.fleet import Fleet, build_fleet
from device_sim.fleet_definition import FleetDefinition, load_fleet_definition
from device_sim.messages import Delivery, DeviceStatus
from device_sim.robustness import Robustness, perturb_fleet
from domain import Anomaly, DeviceType, FaultCode, Reading
from domain.wire import ApplianceEvent

START = 1_764_000_000.0  # 2025-11-24 16:00 UTC
DAY_S = 86400.0
BATCH = 1000  # messages per engine batch, as ingest hands them over


@dataclass
class SimRun:
    """A simulated fleet ready to be streamed, and what the engine must know about it."""

    definition: FleetDefinition
    fleet: Fleet[object]
    start_ts: float
    duration_s: float
    types: dict[str, DeviceType] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)

    @property
    def end_ts(self) -> float:
        return self.start_ts + self.duration_s

    @property
    def readings(self) -> Iterator[Reading]:
        """Only the telemetry, in event-time order, without transport effects."""
        return _readings(self)

    def deliveries(self, *, network: bool = True, error_codes: bool = True) -> Iterator[Delivery]:
        """Everything the broker would deliver, in arrival order (`error_codes` False: the
        appliances raise none)."""
        return _deliveries(self, network=network, error_codes=error_codes)

    def episodes(self) -> list[Episode]:
        return [
            Episode(g.device_id, g.fault_code, g.onset_ts, g.end_ts)
            for g in self.fleet.ground_truth
        ]


def scaled_definition(
    definition: FleetDefinition, *, devices: int, days: float, seed: int, healthy: bool = False
) -> FleetDefinition:
    """`definition` with its device counts scaled to `devices` in total, run for `days`."""
    total = definition.device_count
    counts = {
        device_type: {model: n * devices / total for model, n in spec.models.items()}
        for device_type, spec in definition.devices.items()
    }
    rounded = _round_counts(counts, devices)
    data = definition.model_dump(mode="python")
    data["devices"] = {t: {"models": m} for t, m in rounded.items()}
    data["duration"] = days * DAY_S
    data["seed"] = seed
    data["start"] = None
    if healthy:
        data["faults"] = {"rates": {}, "noisy_sensor_rate": 0.0}
        data["batches"] = []
    return FleetDefinition.model_validate(data)


def _round_counts(
    counts: dict[DeviceType, dict[str, float]], total: int
) -> dict[DeviceType, dict[str, int]]:
    """Largest-remainder rounding, so the counts add up to `total` exactly."""
    flat = [(t, m, c) for t, models in counts.items() for m, c in models.items()]
    floors = [math.floor(c) for _, _, c in flat]
    short = total - sum(floors)
    order = sorted(range(len(flat)), key=lambda i: flat[i][2] - floors[i], reverse=True)
    for i in order[:short]:
        floors[i] += 1
    out: dict[DeviceType, dict[str, int]] = {}
    for (t, m, _), n in zip(flat, floors, strict=True):
        out.setdefault(t, {})[m] = n
    return out


def simulate(
    *,
    devices: int,
    days: float,
    seed: int,
    fleet: str | Path | None = None,
    healthy: bool = False,
    start_ts: float = START,
    robust: Robustness | None = None,
) -> SimRun:
    """Build the scaled fleet (`fleet`: a definition file or packaged name), perturbed by
    `robust` if given."""
    definition = scaled_definition(
        load_fleet_definition(fleet or "default"),
        devices=devices,
        days=days,
        seed=seed,
        healthy=healthy,
    )
    built = build_fleet(definition, seed, start_ts=start_ts)
    if robust is not None:
        built = perturb_fleet(built, robust)
    run = SimRun(definition, built, start_ts, days * DAY_S)
    for info in built.devices:
        run.types[info.device_id] = info.type
        run.models[info.device_id] = info.model
    return run


def _readings(run: SimRun) -> Iterator[Reading]:
    return scenario.readings(
        run.fleet,
        start_ts=run.start_ts,
        duration_s=run.duration_s,
        interval_s=run.definition.interval_s,
    )


def _deliveries(run: SimRun, *, network: bool, error_codes: bool) -> Iterator[Delivery]:
    transport = run.definition.transport
    return scenario.deliveries(
        run.fleet,
        start_ts=run.start_ts,
        duration_s=run.duration_s,
        interval_s=run.definition.interval_s,
        transport=transport.config(run.definition.seed) if network else None,
        events=transport.events and error_codes,
        status=transport.status,
    )


def train_fleet_model(
    *, devices: int, days: float, seed: int, fleet: str | Path | None = None
) -> FleetModel:
    """Fit the fleet model on a healthy fleet's hourly features, per model and per type."""
    run = simulate(devices=devices, days=days, seed=seed, fleet=fleet, healthy=True)
    rows = FleetRows(run.types, run.models)
    rows.add(run.readings)
    return rows.fit()


@dataclass
class FleetEval:
    report: EvalReport
    anomalies: list[Anomaly]
    run: SimRun
    messages: int
    seconds: float


def evaluate(
    *,
    devices: int,
    days: float,
    seed: int,
    fleet: str | Path | None = None,
    fleet_model: FleetModel | None = None,
    network: bool = True,
    error_codes: bool = True,
    robust: Robustness | None = None,
) -> FleetEval:
    """Run a labelled fleet through a fresh engine and score what it raised.

    `error_codes` False: the appliances raise none, so only the telemetry (and the fleet
    model, if given) can find the faults.
    """
    run = simulate(devices=devices, days=days, seed=seed, fleet=fleet, robust=robust)
    engine = DetectionEngine(fleet_model=fleet_model)
    for device_id, device_type in run.types.items():
        engine.register(device_id, device_type, model=run.models[device_id])
    anomalies: list[Anomaly] = []
    types = run.types
    process, process_event, advance = engine.process, engine.process_event, engine.advance
    started = time.perf_counter()
    count = 0
    for _, message in run.deliveries(network=network, error_codes=error_codes):
        count += 1
        if isinstance(message, Reading):
            found = process(types[message.device_id], message)
        elif isinstance(message, ApplianceEvent):
            found = process_event(types[message.device_id], message)
        elif isinstance(message, DeviceStatus):
            found = engine.process_status(
                types[message.device_id], message.device_id, online=message.online
            )
        else:  # pragma: no cover - the simulator sends nothing else
            continue
        if found:
            anomalies.extend(found)
        if count % BATCH == 0:
            anomalies.extend(advance())
    anomalies.extend(advance())
    report = score(
        run.episodes(),
        anomalies,
        device_days=devices * days,
        end_ts=run.end_ts,
        codes=[c for c in FaultCode],
    )
    return FleetEval(report, anomalies, run, count, time.perf_counter() - started)


def main(args: argparse.Namespace) -> int:
    model = None
    if not args.no_fleet_model:
        t = time.perf_counter()
        model = train_fleet_model(
            devices=min(args.devices, args.train_devices),
            days=args.train_days,
            seed=args.seed + 7919,
            fleet=args.fleet,
        )
        print(f"fleet model: trained on a healthy fleet in {time.perf_counter() - t:.0f} s")
    robust = Robustness() if args.robust else None
    common = {
        "devices": args.devices,
        "days": args.days,
        "seed": args.seed,
        "fleet": args.fleet,
        "network": not args.perfect_network,
        "robust": robust,
    }
    result = evaluate(fleet_model=model, error_codes=True, **common)
    mix: dict[str, int] = {}
    for device_type in result.run.types.values():
        mix[device_type.value] = mix.get(device_type.value, 0) + 1
    print(
        f"fleet {result.run.definition.name!r}: {args.devices} devices "
        f"({', '.join(f'{n} {t}' for t, n in sorted(mix.items()))}) over {args.days:g} days, "
        f"seed {args.seed}; {result.messages:,} messages in {result.seconds:.0f} s"
    )
    if robust is not None:
        print(
            f"robust: unit parameters scaled by [{1 - robust.spread:g}, {1 + robust.spread:g}], "
            f"climates shifted up to ±{robust.climate_c:g} °C, reports every "
            f"{'/'.join(f'{s:g}' for s in robust.intervals_s)} s"
        )
    sources = "telemetry + appliance error codes" + (" + fleet model" if model else "")
    print(f"\nfull detection ({sources}):")
    print(format_report(result.report))
    ok = result.report.meets(recall=0.95, precision=0.95, false_per_kdd=1.0)
    print(_verdict(ok))
    if not args.no_telemetry_only:
        alone = evaluate(fleet_model=None, error_codes=False, **common)
        print("\ntelemetry only (per-device detectors; no error codes, no fleet model):")
        print(format_report(alone.report))
        print(_verdict(alone.report.meets(recall=0.95, precision=0.95, false_per_kdd=1.0)))
    if args.anomalies:
        from detection.hygiene import anomaly_to_dict

        with Path(args.anomalies).open("w", encoding="utf-8") as out:
            import json

            for anomaly in result.anomalies:
                out.write(json.dumps(anomaly_to_dict(anomaly), sort_keys=True) + "\n")
    return 0 if ok else 1


def _verdict(ok: bool) -> str:
    return (
        "target (recall >= 0.95, precision >= 0.95 per code; <= 1 false alarm per "
        f"1,000 device-days): {'met' if ok else 'NOT met'}"
    )


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--devices", type=int, default=1000, help="devices in the fleet (default 1000)"
    )
    parser.add_argument("--days", type=float, default=14.0, help="event-time days (default 14)")
    parser.add_argument("--seed", type=int, default=2026, help="simulation seed (default 2026)")
    parser.add_argument("--fleet", default=None, help="fleet definition (file or packaged name)")
    parser.add_argument(
        "--train-devices", type=int, default=300, help="healthy devices to fit the fleet model on"
    )
    parser.add_argument(
        "--train-days", type=float, default=3.0, help="days of healthy history to fit it on"
    )
    parser.add_argument(
        "--no-fleet-model", action="store_true", help="per-device detectors only, no fleet model"
    )
    parser.add_argument(
        "--perfect-network",
        action="store_true",
        help="no drops, duplicates, reordering or clock skew on the way in",
    )
    parser.add_argument("--anomalies", type=Path, default=None, help="write them as JSON Lines")
    parser.add_argument(
        "--robust",
        action="store_true",
        help="units drawn ±20 %% off their model parameters, climates shifted, reports "
        "every 30-120 s",
    )
    parser.add_argument(
        "--no-telemetry-only",
        action="store_true",
        help="skip the second, telemetry-only run (no error codes, no fleet model)",
    )
