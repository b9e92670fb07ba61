"""`faultline bench sim`: how fast one simulator process publishes a 10k-device fleet.

Starts its own Mosquitto on a free port (or uses `--mqtt-url`), builds the fleet
(`bench-10k` by default), and publishes it in fast-forward for `--seconds` of wall time:
physics for every type, failing sensors, outages, events, status and network realism,
encoded and written to the broker, acknowledged at QoS 1. Reports readings/s (telemetry
messages acknowledged per second of publishing) and memory: RSS sampled every
`--sample-s`, and the peak (`resource.getrusage`), to show it stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GOAL_READINGS_S = 20_000


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fleet", default="bench-10k", help="fleet YAML or packaged name")
    parser.add_argument("--devices", type=int, default=None, help="scale the fleet to N devices")
    parser.add_argument("--seconds", type=float, default=60.0, help="wall time to publish for")
    parser.add_argument("--qos", type=int, choices=(0, 1), default=1, help="MQTT QoS")
    parser.add_argument("--paho", action="store_true", help="publish through paho, not MqttWriter")
    parser.add_argument("--window", type=int, default=20_000, help="QoS 1 messages in flight")
    parser.add_argument("--sample-s", type=float, default=2.0, help="RSS sampling period")
    parser.add_argument("--mqtt-url", default=None, help="an existing broker (default: our own)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")


@dataclass
class Sample:
    t_s: float
    messages: int
    readings: int
    rss_mb: float


@dataclass
class Report:
    fleet: str
    devices: int
    client: str
    qos: int
    seconds: float
    messages: int
    readings: int
    acknowledged: int
    readings_per_s: float
    messages_per_s: float
    build_s: float
    peak_rss_mb: float
    simulator_cpu_s: float  # user + system CPU the simulator used while publishing
    broker_cpu_s: float | None
    load_average: tuple[float, float]  # 1-minute load at start and end: the box is shared
    samples: list[Sample] = field(default_factory=list)

    def lines(self) -> list[str]:
        ok = "meets" if self.readings_per_s >= GOAL_READINGS_S else "MISSES"
        per_cpu = self.readings / max(self.simulator_cpu_s, 1e-9)
        broker = "?" if self.broker_cpu_s is None else f"{self.broker_cpu_s:.1f}s"
        out = [
            f"fleet {self.fleet}: {self.devices:,} devices, built in {self.build_s:.1f}s; "
            f"{self.client}, QoS {self.qos}",
            f"{self.readings:,} readings ({self.messages:,} messages, {self.acknowledged:,} "
            f"acknowledged) in {self.seconds:.1f}s",
            f"readings/s: {self.readings_per_s:,.0f} ({ok} the {GOAL_READINGS_S:,}/s goal); "
            f"messages/s: {self.messages_per_s:,.0f}",
            f"simulator CPU {self.simulator_cpu_s:.1f}s ({per_cpu:,.0f} readings per CPU-second); "
            f"broker CPU {broker}; load average "
            f"{self.load_average[0]:.1f} -> {self.load_average[1]:.1f} on {os.cpu_count()} cores",
            f"peak RSS {self.peak_rss_mb:.0f} MB; RSS over the run (MB):",
        ]
        previous = Sample(0.0, 0, 0, 0.0)
        for s in self.samples:
            dt = max(s.t_s - previous.t_s, 1e-9)
            rate = (s.readings - previous.readings) / dt
            out.append(
                f"  t={s.t_s:6.1f}s  readings={s.readings:>10,}  {rate:>8,.0f}/s  "
                f"rss={s.rss_mb:7.1f}"
            )
            previous = s
        return out


def _rss_mb() -> float:
    """Current resident set size (Linux /proc; falls back to the peak elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return _peak_rss_mb()


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu_s(pid: int | None) -> float | None:
    """CPU seconds another process has used (Linux /proc), or None if unknown."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _Meter:
    """Counts what passes through, stops the stream at the deadline, samples memory."""

    def __init__(self, seconds: float, sample_s: float) -> None:
        self.seconds = seconds
        self.sample_s = sample_s
        self.messages = 0
        self.readings = 0
        self.samples: list[Sample] = []
        self.started = 0.0
        self._stop = threading.Event()

    def count(self, stream: Iterable[Any]) -> Iterator[Any]:
        from domain.wire import Channel

        telemetry = Channel.TELEMETRY
        self.started = time.perf_counter()
        deadline = self.started + self.seconds
        check = 0
        for message in stream:
            yield message
            self.messages += 1
            if message[2] is telemetry:
                self.readings += 1
            check += 1
            if check >= 2000:
                check = 0
                if time.perf_counter() >= deadline:
                    return

    def sample_forever(self) -> None:
        while not self._stop.wait(self.sample_s):
            if self.started:
                t = time.perf_counter() - self.started
                self.samples.append(
                    Sample(round(t, 2), self.messages, self.readings, round(_rss_mb(), 1))
                )

    def stop(self) -> None:
        self._stop.set()


def run_bench(args: argparse.Namespace) -> Report:
    from device_sim.fleet import build_fleet
    from device_sim.fleet_definition import load_fleet_definition
    from device_sim.publisher import publish_messages
    from device_sim.scenario import deliveries, messages
    from ingest.broker_address import BrokerAddress

    definition = load_fleet_definition(args.fleet)
    if args.devices is not None:
        definition = _scaled(definition, args.devices)
    built = time.perf_counter()
    start_ts = definition.start_ts if definition.start_ts is not None else 1_751_299_200.0
    fleet = build_fleet(definition, start_ts=start_ts)
    build_s = time.perf_counter() - built
    transport = definition.transport
    stream = messages(
        deliveries(
            fleet,
            start_ts=start_ts,
            duration_s=definition.duration,
            interval_s=definition.interval_s,
            transport=transport.config(fleet.seed),
            events=transport.events,
            status=transport.status,
        )
    )
    meter = _Meter(args.seconds, args.sample_s)
    sampler = threading.Thread(target=meter.sample_forever, name="rss-sampler", daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory(prefix="faultline-bench-sim-") as workdir:
        broker = None
        if args.mqtt_url is None:
            from faultline.mosquitto_process import MosquittoProcess

            broker = MosquittoProcess(Path(workdir))
            broker.start()
        url = args.mqtt_url or (broker.url if broker else "")
        address = BrokerAddress.parse(url)
        load_start = os.getloadavg()[0]
        cpu_start = _cpu_s()
        broker_pid = broker.pid if broker else None
        broker_start = _process_cpu_s(broker_pid)
        try:
            stats = publish_messages(
                meter.count(stream),
                host=address.host,
                port=address.port,
                qos=args.qos,
                username=address.username,
                password=address.password,
                tls=address.tls,
                fast=not args.paho,
                window=args.window if not args.paho else 1000,
                client_id=f"faultline-bench-sim-{os.getpid()}",
            )
            simulator_cpu = _cpu_s() - cpu_start
            broker_end = _process_cpu_s(broker_pid)
        finally:
            meter.stop()
            if broker is not None:
                broker.stop()
    broker_cpu = None
    if broker_start is not None and broker_end is not None:
        broker_cpu = round(broker_end - broker_start, 1)
    sampler.join(5)
    elapsed = stats.elapsed_s
    meter.samples.append(
        Sample(round(elapsed, 2), meter.messages, meter.readings, round(_rss_mb(), 1))
    )
    return Report(
        fleet=definition.name,
        devices=len(fleet.devices),
        client="paho" if args.paho else "MqttWriter",
        qos=args.qos,
        seconds=round(elapsed, 2),
        messages=stats.published,
        readings=meter.readings,
        acknowledged=stats.acknowledged,
        readings_per_s=round(meter.readings / elapsed, 1),
        messages_per_s=round(stats.published / elapsed, 1),
        build_s=round(build_s, 2),
        peak_rss_mb=round(_peak_rss_mb(), 1),
        simulator_cpu_s=round(simulator_cpu, 1),
        broker_cpu_s=broker_cpu,
        load_average=(round(load_start, 2), round(os.getloadavg()[0], 2)),
        samples=meter.samples,
    )


def _scaled(definition: Any, devices: int) -> Any:
    """The definition with every model's count scaled so the fleet has about `devices`."""
    factor = devices / definition.device_count
    scaled = {
        device_type: spec.model_copy(
            update={"models": {m: max(1, round(n * factor)) for m, n in spec.models.items()}}
        )
        for device_type, spec in definition.devices.items()
    }
    return definition.model_copy(update={"devices": scaled})


def main(args: argparse.Namespace) -> int:
    report = run_bench(args)
    print("\n".join(report.lines()))
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(report), indent=1) + "\n", encoding="utf-8")
    return 0
