"""`faultline device-models load FILE` / `list`: the device-model catalog from a file.

FILE is JSON: a list of entries, each `{"model": ..., "type": ..., "reporting_interval_s":
..., "ranges": {"metric": [low, high]}, "ratings": {"name": value}}` (the API's body plus
`model`). Every entry is checked first; one that cannot apply stops the load naming it,
and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from domain.device_models import DeviceModelSpec
from domain.devices import DeviceType
from faultline.device_catalog import spec_error
from faultline.settings import Settings
from storage import device_models
from storage.database import make_engine, make_session_factory, migrate


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("device-models", help="the device-model catalog (maker figures)")
    what = parser.add_subparsers(dest="what", required=True)
    load = what.add_parser("load", help="create or replace entries from a JSON file")
    load.add_argument("file", type=Path, help="a JSON list of catalog entries")
    listing = what.add_parser("list", help="print the catalog as JSON")
    for sub in (load, listing):
        sub.add_argument(
            "--database-url", dest="database_url", default=None, help="(env FAULTLINE_DATABASE_URL)"
        )


def run(args: argparse.Namespace) -> int:
    engine = make_engine(args.database_url or Settings().database_url)
    migrate(engine)
    sessions = make_session_factory(engine)
    try:
        if args.what == "list":
            with sessions() as session:
                rows = device_models.list_all(session=session)
                entries = [_entry(device_models.to_spec(row)) for row in rows]
            print(json.dumps(entries, indent=2))
            return 0
        try:
            specs = [_spec(raw) for raw in _read(args.file)]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"faultline: cannot load {args.file}: {exc}", file=sys.stderr)
            return 2
        with sessions.begin() as session:
            for spec in specs:
                device_models.put(session=session, spec=spec)
        print(f"loaded {len(specs)} device model(s) from {args.file}")
        return 0
    finally:
        engine.dispose()


def _read(path: Path) -> list[Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of entries")
    return data


def _spec(raw: dict[str, Any]) -> DeviceModelSpec:
    spec = DeviceModelSpec(
        model=str(raw["model"]),
        type=DeviceType(raw["type"]),
        reporting_interval_s=(
            None if raw.get("reporting_interval_s") is None else float(raw["reporting_interval_s"])
        ),
        ranges={str(k): (float(v[0]), float(v[1])) for k, v in raw.get("ranges", {}).items()},
        ratings={str(k): float(v) for k, v in raw.get("ratings", {}).items()},
    )
    problem = spec_error(spec)
    if problem is not None:
        raise ValueError(f"model {spec.model}: {problem}")
    return spec


def _entry(spec: DeviceModelSpec) -> dict[str, Any]:
    return {
        "model": spec.model,
        "type": spec.type.value,
        "reporting_interval_s": spec.reporting_interval_s,
        "ranges": {k: list(v) for k, v in spec.ranges.items()},
        "ratings": dict(spec.ratings),
    }
