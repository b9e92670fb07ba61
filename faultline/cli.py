"""`faultline` command line: run, sim, demo, eval, bench, model, audit."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from faultline.settings import Settings

SETTING_FLAGS = {
    "--mqtt-url": "mqtt_url",
    "--mqtt-prefix": "mqtt_prefix",
    "--database-url": "database_url",
    "--telemetry-url": "telemetry_url",
    "--telemetry-path": "telemetry_path",
    "--http-host": "http_host",
    "--http-port": "http_port",
    "--admin-token": "admin_token",
    "--fleet-model": "fleet_model",
}


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """Flags override the FAULTLINE_* variables of the same name."""
    for flag, field in SETTING_FLAGS.items():
        description = Settings.model_fields[field].description or ""
        parser.add_argument(
            flag, dest=field, default=None, help=f"{description} (env FAULTLINE_{field.upper()})"
        )


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        field: getattr(args, field)
        for field in SETTING_FLAGS.values()
        if getattr(args, field, None) is not None
    }
    return Settings(**overrides)


EPILOG = (
    "Every setting is a FAULTLINE_* environment variable (the common ones also a flag): "
    "`faultline settings` lists them all with their defaults."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faultline", description=__doc__, epilog=EPILOG)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    parser.add_argument("--version", action="version", version=f"faultline {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("settings", help="every setting: its variable, default and meaning")

    run = commands.add_parser("run", help="the service: ingest, detection, field service, API")
    add_setting_flags(run)

    sim = commands.add_parser("sim", help="simulate an appliance fleet and publish it over MQTT")
    add_setting_flags(sim)
    add_sim_flags(sim)

    demo = commands.add_parser("demo", help="embedded broker + simulator + service + API")
    add_setting_flags(demo)
    demo.add_argument("--devices", type=int, default=12, help="simulated fridges (default 12)")
    demo.add_argument("--speed", type=float, default=600.0, help="event time per wall second")
    demo.add_argument("--days", type=float, default=4.0, help="simulated history to play")
    demo.add_argument(
        "--workdir",
        type=Path,
        default=Path("./faultline-demo"),
        help="folder for the demo's databases (new, empty, or a previous demo's)",
    )
    demo.add_argument("--exit-after", type=float, default=None, help="stop after N seconds")
    demo.add_argument(
        "--crew-pace",
        type=float,
        default=20.0,
        help="seconds a simulated technician takes per step (0: no simulated crew)",
    )

    evaluate = commands.add_parser("eval", help="detection quality on labelled data")
    what = evaluate.add_subparsers(dest="what", required=True)
    nab = what.add_parser("nab", help="run the generic detector over NAB-style CSVs")
    nab.add_argument("data_dir", type=Path, help="folder of timestamp,value CSVs (NAB's data/)")
    nab.add_argument("out_dir", type=Path, help="where to write the scored CSVs")
    nab_score = what.add_parser("nab-score", help="score a results folder the way NAB does")
    nab_score.add_argument("results_dir", type=Path, help="the out_dir of `eval nab`")
    nab_score.add_argument("--labels", type=Path, required=True, help="labels_windows.json")
    nab_score.add_argument(
        "--profile", default="standard", help="standard, reward_low_FP_rate or reward_low_FN_rate"
    )
    nab_score.add_argument("--profiles", type=Path, default=None, help="profiles.json")
    fleet = what.add_parser("fleet", help="a simulated labelled fleet through the detectors")
    from faultline import eval_fleet

    eval_fleet.add_flags(fleet)
    battery = what.add_parser("battery", help="wear prognosis on real cells (NASA-format CSVs)")
    from faultline import eval_battery

    eval_battery.add_flags(battery)

    bench = commands.add_parser("bench", help="throughput")
    bench_what = bench.add_subparsers(dest="what", required=True)
    from faultline import bench_detect

    bench_detect.add_flags(bench_what.add_parser("detect", help="readings/s through detection"))
    from faultline import bench_sim

    bench_sim.add_flags(bench_what.add_parser("sim", help="simulator readings/s into Mosquitto"))
    from faultline import audit_cli, bench_dispatch

    bench_dispatch.add_arguments(bench_what.add_parser("dispatch", help="vs the exact optimum"))
    from faultline import bench_scale, bench_telemetry

    bench_scale.add_flags(
        bench_what.add_parser("scale", help="readings/s through 1 vs N partitioned workers")
    )

    bench_telemetry.add_flags(bench_what.add_parser("telemetry", help="writes/s per store"))
    from faultline import bench_e2e

    bench_e2e.add_flags(
        bench_what.add_parser("e2e", help="one service draining a backlog vs a bare subscriber")
    )
    audit_cli.add_parser(commands)
    from faultline import device_models_cli

    device_models_cli.add_parser(commands)
    model = commands.add_parser("model", help="the fleet model (UNCLASSIFIED_ANOMALY)")
    model_what = model.add_subparsers(dest="what", required=True)
    from faultline import fleet_model_file

    fleet_model_file.add_flags(model_what.add_parser("train", help="fit on a healthy fleet"))
    return parser


def add_sim_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--devices", type=int, default=20, help="without --fleet: simulated fridges (default 20)"
    )
    parser.add_argument("--days", type=float, default=None, help="default 3, or the fleet's")
    parser.add_argument("--seed", type=int, default=None, help="default 7, or the fleet's")
    parser.add_argument("--faulty", type=float, default=0.2, help="share of units with a fault")
    parser.add_argument(
        "--speed", type=float, default=None, help="N× real time; default: as fast as possible"
    )
    parser.add_argument("--start", type=float, default=None, help="first event time (Unix s)")
    parser.add_argument(
        "--api-url",
        default=None,
        help="provision the fleet at this Faultline first, and publish no faster than it takes "
        "readings in (see --max-outstanding)",
    )
    parser.add_argument(
        "--max-outstanding",
        type=int,
        default=800,
        help="with --api-url: at most this many messages published and not yet taken in by "
        "the service (keep it under the broker's max_queued_messages; default 800)",
    )
    parser.add_argument(
        "--no-pacing",
        action="store_true",
        help="with --api-url: publish as fast as the broker acknowledges",
    )
    parser.add_argument(
        "--ground-truth",
        type=Path,
        default=Path("ground_truth.jsonl"),
        help="where to write the fault labels (JSON lines)",
    )
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG of units and exit")
    parser.add_argument("--fleet", default=None, help="fleet YAML, or default/demo/bench-10k")
    parser.add_argument("--provision-file", type=Path, default=None, help="write devices as JSON")
    parser.add_argument("--record", type=Path, default=None, help="record to FILE (.gz ok), exit")
    parser.add_argument("--replay", type=Path, default=None, help="publish a recording")
    parser.add_argument("--fast", action="store_true", help="own MQTT packet writer (~10x paho)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.command == "settings":
        from faultline.settings import describe

        for variable, default, description in describe():
            print(f"{variable}={default}\n    {description}")
        return 0
    if args.command == "run":
        from faultline.commands import run_service

        return run_service(settings_from(args))
    if args.command == "sim":
        from faultline.simulate import run_sim

        return run_sim(settings_from(args), args)
    if args.command == "demo":
        from faultline.demo import run_demo

        return run_demo(settings_from(args), args)
    if args.command == "eval":
        return run_eval(args)
    if args.command == "bench" and args.what == "detect":
        from faultline import bench_detect

        return bench_detect.main(args)
    if args.command == "bench" and args.what == "sim":
        from faultline import bench_sim

        return bench_sim.main(args)
    if args.command == "bench" and args.what == "dispatch":
        from faultline import bench_dispatch

        return bench_dispatch.run(args)
    if args.command == "bench" and args.what == "e2e":
        from faultline import bench_e2e

        return bench_e2e.main(args)
    if args.command == "bench" and args.what == "scale":
        from faultline import bench_scale

        return bench_scale.main(args)
    if args.command == "bench" and args.what == "telemetry":
        from faultline import bench_telemetry

        return bench_telemetry.main(args)
    if args.command == "model":
        from faultline import fleet_model_file

        return fleet_model_file.main(args)
    if args.command == "device-models":
        from faultline import device_models_cli

        return device_models_cli.run(args)
    if args.command == "audit":
        from faultline import audit_cli

        return audit_cli.run(args)
    return 2


def _version() -> str:
    try:
        return metadata.version("faultline")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def run_eval(args: argparse.Namespace) -> int:
    from faultline import eval_nab

    if args.what == "nab":
        return eval_nab.run_nab(args.data_dir, args.out_dir)
    if args.what == "fleet":
        from faultline import eval_fleet

        return eval_fleet.main(args)
    if args.what == "battery":
        from faultline import eval_battery

        return eval_battery.main(args)
    if args.what == "nab-score":
        report = eval_nab.score_nab(args.results_dir, args.labels, args.profile, args.profiles)
        print(eval_nab.format_report(report))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
