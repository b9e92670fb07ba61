"""`faultline sim`: build a simulated fleet, provision it, publish it over MQTT.

Without `--fleet`, a fridge fleet from `--devices/--days/--faulty`. With `--fleet FILE`
(a YAML fleet definition, or a packaged one by name: default, demo, bench-10k), every
device type, customers, generic faults, network realism, events and status; `--record`
writes the run to a file instead of publishing it, `--replay` publishes a recording.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device_sim import kinds
from device_sim.device_connections import publish_as_devices
from device_sim.faults import write_ground_truth
from device_sim.fleet import Fleet, build_fleet, build_fridge_fleet
from device_sim.fleet_definition import FleetDefinition, load_fleet_definition
from device_sim.messages import Outgoing
from device_sim.pacing import Gate, IngestPacer, service_pacer
from device_sim.provision import device_payload, provision
from device_sim.publisher import PublishStats, publish_messages
from device_sim.recording import read_recording, write_recording
from device_sim.scenario import deliveries, messages, readings
from domain import DeviceInfo, DeviceType, FaultCode
from domain.wire import Channel, encode_reading
from faultline.progress import Progress
from faultline.settings import Settings
from ingest.broker_address import BrokerAddress

log = logging.getLogger(__name__)
DAY = 86_400.0


@dataclass(frozen=True)
class SimPlan:
    fleet: Fleet
    start_ts: float
    duration_s: float


def plan(
    *, devices: int, days: float, seed: int, faulty_share: float, start: float | None
) -> SimPlan:
    """A fleet whose event time ends now (so no reading is from the future) unless `start`."""
    duration = days * DAY
    start_ts = start if start is not None else time.time() - duration
    per_fault = round(devices * faulty_share / 2)
    fleet = build_fridge_fleet(
        count=devices,
        seed=seed,
        start_ts=start_ts,
        faulty={
            FaultCode.FRIDGE_COMPRESSOR_FAILURE: per_fault,
            FaultCode.FRIDGE_TEMP_DRIFT: per_fault,
        },
        fault_window=(0.05 * duration, 0.25 * duration),
    )
    return SimPlan(fleet, start_ts, duration)


def run_sim(settings: Settings, args: argparse.Namespace) -> int:
    if getattr(args, "replay", None) is not None:
        return run_replay(settings, args)
    if getattr(args, "fleet", None) is not None:
        return run_fleet(settings, args)
    if getattr(args, "record", None) or getattr(args, "provision_file", None):
        print("--record and --provision-file need --fleet (e.g. --fleet default)")
        return 2
    sim = plan(
        devices=args.devices,
        days=3.0 if args.days is None else args.days,
        seed=7 if args.seed is None else args.seed,
        faulty_share=args.faulty,
        start=args.start,
    )
    if args.plot is not None:
        from device_sim.plot import plot_units

        plot_units(sim.fleet, path=args.plot, start_ts=sim.start_ts, duration_s=sim.duration_s)
        print(f"wrote {args.plot}")
        return 0
    write_ground_truth(args.ground_truth, sim.fleet.ground_truth)
    print(f"{len(sim.fleet.ground_truth)} faulty units; ground truth in {args.ground_truth}")
    credentials: dict[str, str] = {}
    if args.api_url:
        credentials = _provision(sim.fleet.devices, settings, args)
    gate = _gate(settings, args)
    stats = publish_plan(sim, settings, speed=args.speed, gate=gate, credentials=credentials)
    _report_pacing(gate)
    print(
        f"published {stats.published} readings in {stats.elapsed_s:.1f}s "
        f"({stats.published / max(stats.elapsed_s, 1e-9):,.0f} readings/s)"
    )
    return 0


def publish_plan(
    sim: SimPlan,
    settings: Settings,
    *,
    speed: float | None,
    gate: Gate | None = None,
    credentials: Mapping[str, str] | None = None,
) -> PublishStats:
    stream = (
        Outgoing(r.ts, r.device_id, Channel.TELEMETRY, encode_reading(r))
        for r in readings(sim.fleet, start_ts=sim.start_ts, duration_s=sim.duration_s)
    )
    return _send(stream, settings, speed=speed, gate=gate, credentials=credentials)


def _send(
    stream: Iterable[Outgoing],
    settings: Settings,
    *,
    speed: float | None,
    gate: Gate | None,
    credentials: Mapping[str, str] | None,
    fast: bool = False,
) -> PublishStats:
    """Over one shared connection, or, when the service issued device identities, over
    each device's own connection with its own credentials."""
    broker = BrokerAddress.parse(settings.mqtt_url)
    progress = Progress("published").update
    if credentials:
        return publish_as_devices(
            stream,
            host=broker.host,
            port=broker.port,
            credentials=credentials,
            prefix=settings.mqtt_prefix,
            speed=speed,
            tls=broker.tls,
            ca_file=settings.mqtt_ca_file or None,
            gate=gate,
            progress=progress,
        )
    return publish_messages(
        stream,
        host=broker.host,
        port=broker.port,
        prefix=settings.mqtt_prefix,
        speed=speed,
        username=broker.username,
        password=broker.password,
        tls=broker.tls,
        fast=fast,
        window=20_000 if fast else 1000,
        gate=gate,
        progress=progress,
    )


def _provision(
    devices: Sequence[DeviceInfo], settings: Settings, args: argparse.Namespace
) -> dict[str, str]:
    stats = provision(devices, base_url=args.api_url, token=settings.admin_token)
    print(f"provisioned {len(devices)} devices at {args.api_url}")
    if stats.credentials:
        print(f"{len(stats.credentials)} devices publish with their own broker credentials")
    return stats.credentials


def _gate(settings: Settings, args: argparse.Namespace) -> IngestPacer | None:
    """Against a service we provisioned, publish no faster than it takes readings in."""
    if not getattr(args, "api_url", None) or getattr(args, "no_pacing", False):
        return None
    return service_pacer(
        args.api_url, settings.admin_token, max_outstanding=getattr(args, "max_outstanding", 800)
    )


def _report_pacing(gate: IngestPacer | None) -> None:
    if gate is not None and gate.waits:
        print(
            f"held back {gate.waits} times ({gate.waited_s:.1f} s in all) for the service "
            "to catch up"
        )


@dataclass(frozen=True)
class FleetRun:
    """A fleet built from its definition, and the stretch of event time to play."""

    definition: FleetDefinition
    fleet: Fleet[Any]
    start_ts: float
    duration_s: float

    def messages(self) -> Any:
        """Everything the run sends, encoded for MQTT, in order of arrival."""
        transport = self.definition.transport
        return messages(
            deliveries(
                self.fleet,
                start_ts=self.start_ts,
                duration_s=self.duration_s,
                interval_s=self.definition.interval_s,
                transport=transport.config(self.fleet.seed),
                events=transport.events,
                status=transport.status,
            )
        )


def fleet_run(
    source: str | Path,
    *,
    seed: int | None = None,
    start: float | None = None,
    days: float | None = None,
) -> FleetRun:
    """Load a fleet definition and build it; event time ends now unless it has a start."""
    definition = load_fleet_definition(source)
    if days is not None:  # fault onsets and outages are placed within the run: rescale them
        definition = definition.model_copy(update={"duration": days * DAY})
    duration = definition.duration
    start_ts = start if start is not None else definition.start_ts
    if start_ts is None:
        start_ts = float(int(time.time() - duration))
    fleet = build_fleet(definition, seed, start_ts=start_ts)
    return FleetRun(definition, fleet, start_ts, duration)


def run_fleet(settings: Settings, args: argparse.Namespace) -> int:
    run = fleet_run(args.fleet, seed=args.seed, start=args.start, days=args.days)
    fleet = run.fleet
    types = sorted({d.type.value for d in fleet.devices})
    print(
        f"fleet {run.definition.name!r}: {len(fleet.devices)} devices ({', '.join(types)}), "
        f"{len(fleet.customers)} households, {run.duration_s / DAY:g} days"
    )
    if args.plot is not None:
        for path in plot_fleet(run, args.plot):
            print(f"wrote {path}")
        return 0
    write_ground_truth(args.ground_truth, fleet.ground_truth)
    print(f"{len(fleet.ground_truth)} fault labels; ground truth in {args.ground_truth}")
    if args.provision_file is not None:
        write_provisioning(run, args.provision_file)
        print(f"wrote {len(fleet.devices)} devices to {args.provision_file}")
    credentials: dict[str, str] = {}
    if args.api_url:
        credentials = _provision(fleet.devices, settings, args)
    if args.record is not None:
        started = time.perf_counter()
        count = write_recording(args.record, run.messages(), meta=recording_meta(run))
        elapsed = time.perf_counter() - started
        print(f"recorded {count} messages to {args.record} in {elapsed:.1f}s")
        return 0
    gate = _gate(settings, args)
    stats = _send(
        run.messages(),
        settings,
        speed=args.speed,
        gate=gate,
        credentials=credentials,
        fast=getattr(args, "fast", False),
    )
    _report_pacing(gate)
    _report(stats, "messages")
    return 0


def run_replay(settings: Settings, args: argparse.Namespace) -> int:
    gate = _gate(settings, args)
    stats = _send(
        read_recording(args.replay),
        settings,
        speed=args.speed,
        gate=gate,
        credentials=None,
        fast=getattr(args, "fast", False),
    )
    _report_pacing(gate)
    _report(stats, "recorded messages")
    return 0


def _report(stats: PublishStats, what: str) -> None:
    print(
        f"published {stats.published} {what} in {stats.elapsed_s:.1f}s "
        f"({stats.published / max(stats.elapsed_s, 1e-9):,.0f}/s)"
    )


def recording_meta(run: FleetRun) -> dict[str, Any]:
    return {
        "fleet": run.definition.name,
        "seed": run.fleet.seed,
        "start_ts": run.start_ts,
        "duration_s": run.duration_s,
        "interval_s": run.definition.interval_s,
        "devices": len(run.fleet.devices),
    }


def write_provisioning(run: FleetRun, path: str | Path) -> None:
    """The fleet's devices (as `POST /api/v1/devices` bodies) and customers, as JSON."""
    body = {
        "fleet": run.definition.name,
        "seed": run.fleet.seed,
        "devices": [
            {**device_payload(d), "production_batch": d.production_batch, "firmware": d.firmware}
            for d in run.fleet.devices
        ],
        "customers": [c.as_dict() for c in run.fleet.customers],
    }
    Path(path).write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")


def plot_fleet(run: FleetRun, path: str | Path) -> list[Path]:
    """Per device type, a healthy unit and a faulty one, drawn by that type's plot module.

    Writes `{stem}-{type}{suffix}` next to `path`. Types without a plot module are skipped.
    """
    path = Path(path)
    out = []
    faulty_ids = {g.device_id for g in run.fleet.ground_truth}
    for device_type in DeviceType:
        units = [
            u
            for d, u in zip(run.fleet.devices, run.fleet.units, strict=True)
            if d.type is device_type
        ]
        if not units:
            continue
        kind = kinds.kind(device_type)
        if kind.plot is None:
            continue
        healthy = [u for u in units if u.device_id not in faulty_ids][:1]
        broken = [u for u in units if u.fault is not None][:1]
        module_name, _, function = kind.plot.partition(":")
        try:
            draw = getattr(importlib.import_module(module_name), function)
        except (ModuleNotFoundError, AttributeError):
            log.warning("no plot for %s (%s missing)", device_type.value, kind.plot)
            continue
        target = path.with_name(f"{path.stem}-{device_type.value}{path.suffix or '.png'}")
        duration_s = max(run.duration_s, kind.plot_days * DAY)
        options: dict[str, Any] = {"start_ts": run.start_ts, "duration_s": duration_s}
        if "interval_s" in inspect.signature(draw).parameters:
            options["interval_s"] = run.definition.interval_s
        draw(healthy + broken, path=target, **options)
        out.append(target)
    return out
