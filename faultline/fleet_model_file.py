"""`faultline model train`: fit the fleet model (UNCLASSIFIED_ANOMALY) on a healthy fleet
and save it; `faultline run` loads it from `FAULTLINE_FLEET_MODEL` (`--fleet-model`).

The file is a joblib pickle, so it must come from a source you trust, like the code.
Loading checks that it holds a fitted `FleetModel` and says what it was trained on.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import joblib

from detection.fleet_model import FleetModel


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
    from faultline.eval_fleet import train_fleet_model

    started = time.perf_counter()
    model = train_fleet_model(
        devices=args.devices, days=args.days, seed=args.seed, fleet=args.fleet
    )
    save(model, args.out)
    groups = ", ".join(sorted(model.forests_))
    print(
        f"fleet model: {model.n_groups_} groups ({groups}) trained on {args.devices} healthy "
        f"devices x {args.days:g} days in {time.perf_counter() - started:.0f} s -> {args.out}"
    )
    return 0


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="where to write the model")
    parser.add_argument("--fleet", default=None, help="fleet definition (file or packaged name)")
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
