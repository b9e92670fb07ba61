"""Enforces DESIGN.md's table of what each top-level package may import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {
    "domain",
    "ingest",
    "detection",
    "device_sim",
    "storage",
    "fieldservice",
    "api",
    "faultline",
}
ALLOWED = {
    "domain": set(),
    "detection": {"domain"},
    "ingest": {"domain"},
    "storage": {"domain"},
    "fieldservice": {"domain", "storage"},
    "api": {"domain", "storage", "fieldservice"},
    "device_sim": {"domain"},
    "faultline": OURS,
}
# detection/ and domain/ stay pure: no network, database or file-system libraries.
NO_IO = {"socket", "sqlite3", "sqlalchemy", "paho", "aiomqtt", "httpx", "requests", "urllib"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_design_allows(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        ours = imported_roots(path) & OURS - {package}
        if ours - ALLOWED[package]:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(ours - ALLOWED[package])}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("package", ["domain", "detection"])
def test_pure_packages_import_no_io_library(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(imported_roots(path) & NO_IO)}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if imported_roots(path) & NO_IO
    ]
    assert not offenders, "\n".join(offenders)
