"""Jinja2 for the pages: the templates folder, and filters for times in a person's own time
zone, relative times, and the words of the customer page in their language."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.pages.texts import HTML_LANG, text

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def local(ts: float | None, offset_min: int, fmt: str = "%H:%M") -> str:
    """`ts` as wall-clock time at UTC offset `offset_min` (the person's own zone)."""
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts + offset_min * 60.0, UTC).strftime(fmt)


def iso(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def minutes(value: float | None) -> str:
    """A signed duration in minutes as "3 h 05 min" / "12 min"; overdue shows a minus."""
    if value is None:
        return "—"
    sign = "−" if value < 0 else ""
    whole = round(abs(value))
    if whole >= 60:
        return f"{sign}{whole // 60} h {whole % 60:02d} min"
    return f"{sign}{whole} min"


def ago(ts: float | None, now: float) -> str:
    if ts is None:
        return "never"
    seconds = max(0.0, now - ts)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def label(value: str | None) -> str:
    return "—" if value is None else value.replace("_", " ")


@cache
def templates() -> Jinja2Templates:
    """Built on first use (not at import), once per process."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.filters["local"] = local
    env.filters["iso"] = iso
    env.filters["minutes"] = minutes
    env.filters["label"] = label
    env.globals["ago"] = ago
    env.globals["t"] = text
    env.globals["html_lang"] = lambda language: HTML_LANG.get(language, "en")
    env.globals["asset_version"] = _asset_version()
    return templates


def _asset_version() -> str:
    """Changes whenever our own scripts or styles do, so browsers fetch the new ones."""
    newest = max((p.stat().st_mtime for p in STATIC_DIR.glob("*.*")), default=0.0)
    return f"{int(newest)}"


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    response: HTMLResponse = templates().TemplateResponse(
        request, name, context, status_code=status_code
    )
    return response
