"""`faultline sim`: build a simulated fridge fleet, provision it, publish it over MQTT."""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass

from device_sim.faults import write_ground_truth
from device_sim.fleet import Fleet, build_fridge_fleet
from device_sim.provision import provision
from device_sim.publisher import PublishStats, publish
from device_sim.scenario import readings
from domain import FaultCode
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
    sim = plan(
        devices=args.devices,
        days=args.days,
        seed=args.seed,
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
    if args.api_url:
        provision(sim.fleet.devices, base_url=args.api_url, token=settings.admin_token)
        print(f"provisioned {len(sim.fleet.devices)} devices at {args.api_url}")
    stats = publish_plan(sim, settings, speed=args.speed)
    print(
        f"published {stats.published} readings in {stats.elapsed_s:.1f}s "
        f"({stats.published / max(stats.elapsed_s, 1e-9):,.0f} readings/s)"
    )
    return 0


def publish_plan(sim: SimPlan, settings: Settings, *, speed: float | None) -> PublishStats:
    broker = BrokerAddress.parse(settings.mqtt_url)
    return publish(
        readings(sim.fleet, start_ts=sim.start_ts, duration_s=sim.duration_s),
        host=broker.host,
        port=broker.port,
        prefix=settings.mqtt_prefix,
        speed=speed,
    )
