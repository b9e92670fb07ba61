"""`faultline model train`: fit the fleet model (UNCLASSIFIED_ANOMALY) and save it;
`faultline run` loads it from `FAULTLINE_FLEET_MODEL` (`--fleet-model`). It learns from a
simulated healthy fleet, or with `--from-history` from this site's own telemetry (the
devices that raised no anomaly over the last `--days`).

The file is a joblib pickle, so it must come from a source you trust, like the code.
Loading checks that it holds a fitted `FleetModel` and says what it was trained on.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import joblib

from detection.fleet_model import FleetModel
from storage.telemetry import TelemetryError

DAY_S = 86400.0


class FleetModelFileError(ValueError):
    """The file is missing, unreadable or not a fitted fleet model."""


def save(model: FleetModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    joblib.dump(model, tmp, compress=3)
    tmp.replace(path)


def load(path: str | Path) -> FleetModel:
    try:
        model = joblib.load(path)
    except FileNotFoundError as exc:
        raise FleetModelFileError(
            f"fleet model {path}: no such file; make one with `faultline model train --out {path}`"
        ) from exc
    except Exception as exc:  # a damaged or foreign pickle
        raise FleetModelFileError(f"fleet model {path}: cannot be read ({exc})") from exc
    if not isinstance(model, FleetModel) or not getattr(model, "forests_", None):
        raise FleetModelFileError(f"fleet model {path}: not a fitted FleetModel")
    return model


def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.from_history:
        try:
            model, source = _from_history(args)
        except (ValueError, TelemetryError) as exc:
            print(f"faultline model train: {exc}", file=sys.stderr)
            return 1
    else:
        from faultline.eval_fleet import train_fleet_model

        model = train_fleet_model(
            devices=args.devices, days=args.days, seed=args.seed, fleet=args.fleet
        )
        source = f"{args.devices} simulated healthy devices x {args.days:g} days"
    save(model, args.out)
    groups = ", ".join(sorted(model.forests_))
    print(
        f"fleet model: {model.n_groups_} groups ({groups}) trained on {source} "
        f"in {time.perf_counter() - started:.0f} s -> {args.out}"
    )
    return 0


def _from_history(args: argparse.Namespace) -> tuple[FleetModel, str]:
    from faultline.cli import settings_from
    from faultline.fleet_history import train_from_history

    end = args.until if args.until is not None else time.time()
    found = train_from_history(settings_from(args), start=end - args.days * DAY_S, end=end)
    source = (
        f"the telemetry history of {found.devices_used} devices over {args.days:g} days "
        f"({found.readings:,} readings; {found.devices_skipped} with anomalies left out)"
    )
    return found.model, source


def add_flags(parser: argparse.ArgumentParser) -> None:
    from faultline.cli import add_setting_flags

    parser.add_argument("--out", type=Path, required=True, help="where to write the model")
    parser.add_argument(
        "--from-history",
        action="store_true",
        help="learn from this site's telemetry store and database instead of a simulation",
    )
    parser.add_argument("--until", type=float, default=None, help="history window end (Unix s)")
    parser.add_argument("--fleet", default=None, help="fleet definition (file or packaged name)")
    parser.add_argument("--devices", type=int, default=300, help="healthy devices simulated")
    parser.add_argument("--days", type=float, default=3.0, help="days simulated or of history")
    parser.add_argument("--seed", type=int, default=1, help="simulation seed")
    add_setting_flags(parser)
