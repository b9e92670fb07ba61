"""`faultline eval nab` and `eval nab-score`: the NAB files on disk, in and out of detection.nab."""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from detection.generic import GenericDetector
from detection.nab.runner import run_detector
from detection.nab.scoring import (
    NAB_PROFILES,
    CostMatrix,
    ScoredFile,
    ScoringError,
    probation_rows,
    score_corpus,
    window_rows,
)

logger = logging.getLogger(__name__)

DATA_HEADER = ["timestamp", "value"]
RESULTS_HEADER = ["timestamp", "value", "anomaly_score"]


class NabDataError(ValueError):
    """A NAB data, results, labels or profiles file that cannot be used as it is."""


def run_nab(data_dir: Path, out_dir: Path) -> int:
    """Score every ``timestamp,value`` CSV under ``data_dir`` with the generic detector.

    Writes ``out_dir/<category>/<file>.csv`` (``timestamp,value,anomaly_score``), one fresh
    detector per file, row by row. As NAB does for every detector, each is told the file's
    probation period (15 % of its rows, at most 750), and nothing else about the file.
    Returns 0, the command's exit status; bad input raises :class:`NabDataError`.
    """
    paths = _csv_files(data_dir)
    started = time.perf_counter()
    rows_total = 0
    for path in paths:
        relative = path.relative_to(data_dir)
        stamps, (values,) = _read_columns(path, ["value"])
        clock = time.perf_counter()
        make_detector = partial(GenericDetector, probation=probation_rows(len(values)))
        scores = run_detector([_parse_time(path, s) for s in stamps], values, make_detector)
        elapsed = time.perf_counter() - clock
        _write_results(out_dir / relative, stamps, values, scores)
        rows_total += len(values)
        logger.info("%s: %d rows in %.1f s", relative.as_posix(), len(values), elapsed)
    logger.info(
        "scored %d files (%d rows) in %.1f s into %s",
        len(paths),
        rows_total,
        time.perf_counter() - started,
        out_dir,
    )
    return 0


def score_nab(
    results_dir: Path,
    labels_path: Path,
    profile: str = "standard",
    profiles_path: Path | None = None,
) -> dict[str, Any]:
    """Score a results folder against NAB window labels, NAB's way, for one profile.

    Every results file that has labels is scored together: one threshold for all of them.
    Labelled files without results are listed under ``missing`` (and not scored); results
    without labels under ``unlabelled``.
    """
    costs = _cost_matrix(profile, profiles_path)
    labels = _read_labels(labels_path)
    found = {p.relative_to(results_dir).as_posix(): p for p in _csv_files(results_dir)}
    files: list[ScoredFile] = []
    try:
        for name in sorted(found.keys() & labels.keys()):
            path = found[name]
            stamps, (scores,) = _read_columns(path, ["anomaly_score"])
            times = [_parse_time(path, s) for s in stamps]
            windows = [
                (_parse_time(labels_path, a), _parse_time(labels_path, b)) for a, b in labels[name]
            ]
            files.append(ScoredFile(name, scores, window_rows(times, windows)))
        if not files:
            raise NabDataError(
                f"no results file under {results_dir} matches a file in {labels_path}; "
                "results must keep the data's <category>/<file>.csv layout"
            )
        result = score_corpus(files, costs)
    except ScoringError as exc:
        raise NabDataError(f"{results_dir}: {exc}") from exc
    return {
        "profile": profile,
        "threshold": result.threshold,
        "score": result.normalised_score,
        "raw_score": result.raw_score,
        "null_score": result.null_score,
        "perfect_score": result.perfect_score,
        "windows": sum(f.windows for f in result.files),
        "windows_detected": sum(f.windows_detected for f in result.files),
        "files": [
            {
                "file": f.name,
                "raw_score": f.raw_score,
                "tp": f.tp,
                "fp": f.fp,
                "fn": f.fn,
                "tn": f.tn,
                "windows_detected": f.windows_detected,
                "windows": f.windows,
            }
            for f in result.files
        ],
        "missing": sorted(labels.keys() - found.keys()),
        "unlabelled": sorted(found.keys() - labels.keys()),
    }


def format_report(report: Mapping[str, Any]) -> str:
    """A plain-text table of a :func:`score_nab` report."""
    lines = [f"{'file':<58} {'raw':>8} {'windows':>8} {'TP':>6} {'FP':>6}"]
    for f in report["files"]:
        hit = f"{f['windows_detected']}/{f['windows']}"
        lines.append(f"{f['file']:<58} {f['raw_score']:>8.3f} {hit:>8} {f['tp']:>6} {f['fp']:>6}")
    lines.append("")
    lines.append(
        f"profile {report['profile']}: score {report['score']:.2f} "
        f"(raw {report['raw_score']:.3f}, null {report['null_score']:.3f}, "
        f"perfect {report['perfect_score']:.3f}) at threshold {report['threshold']:.6f}; "
        f"{report['windows_detected']}/{report['windows']} windows detected"
    )
    if report["missing"]:
        lines.append(f"not scored, no results: {', '.join(report['missing'])}")
    if report["unlabelled"]:
        lines.append(f"not scored, no labels: {', '.join(report['unlabelled'])}")
    return "\n".join(lines)


def _csv_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise NabDataError(f"{folder} is not a directory")
    paths = sorted(folder.rglob("*.csv"))
    if not paths:
        raise NabDataError(f"no .csv files under {folder}")
    return paths


def _parse_time(source: Path, text: str) -> float:
    """NAB's ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (or any ISO 8601) as Unix seconds; naive is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise NabDataError(f"{source}: {text!r} is not a timestamp") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _read_columns(path: Path, columns: list[str]) -> tuple[list[str], list[list[float]]]:
    """The timestamps and the named numeric columns of a CSV whose header starts as NAB's."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header = [c.strip() for c in rows[0]] if rows else []
    if header[: len(DATA_HEADER)] != DATA_HEADER:
        raise NabDataError(
            f"{path}: expected a header starting {','.join(DATA_HEADER)}; point the command "
            "at NAB's data/ folder (or at a results folder)"
        )
    missing = [c for c in columns if c not in header]
    if missing:
        raise NabDataError(f"{path}: no {', '.join(missing)} column; run `faultline eval nab`")
    indices = [header.index(c) for c in columns]
    stamps: list[str] = []
    numbers: list[list[float]] = [[] for _ in columns]
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) < len(header):
            raise NabDataError(f"{path}:{line}: expected {len(header)} fields, got {len(row)}")
        stamps.append(row[0])
        for column, index in zip(numbers, indices, strict=True):
            column.append(_number(path, line, row[index]))
    return stamps, numbers


def _number(path: Path, line: int, text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise NabDataError(f"{path}:{line}: {text!r} is not a number") from exc


def _write_results(path: Path, stamps: list[str], values: list[float], scores: list[float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(RESULTS_HEADER)
        for stamp, value, score in zip(stamps, values, scores, strict=True):
            writer.writerow([stamp, repr(value), repr(score)])


def _read_labels(path: Path) -> dict[str, list[tuple[str, str]]]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise NabDataError(f"cannot read labels {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise NabDataError(f"{path}: expected NAB's {{file: [[start, end], ...]}} windows")
    labels: dict[str, list[tuple[str, str]]] = {}
    for name, windows in raw.items():
        if not isinstance(windows, list) or any(
            not isinstance(w, list) or len(w) != 2 for w in windows
        ):
            raise NabDataError(f"{path}: {name}: windows must be [start, end] pairs")
        labels[name] = [(str(a), str(b)) for a, b in windows]
    return labels


def _cost_matrix(profile: str, profiles_path: Path | None) -> CostMatrix:
    if profiles_path is None:
        if profile not in NAB_PROFILES:
            raise NabDataError(f"unknown profile {profile!r}; known: {', '.join(NAB_PROFILES)}")
        return NAB_PROFILES[profile]
    try:
        profiles = json.loads(profiles_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise NabDataError(f"cannot read profiles {profiles_path}: {exc}") from exc
    if profile not in profiles:
        raise NabDataError(f"{profiles_path} has no profile {profile!r}; it has {list(profiles)}")
    try:
        return CostMatrix.from_profile(profiles[profile])
    except ScoringError as exc:
        raise NabDataError(f"{profiles_path}: {exc}") from exc
