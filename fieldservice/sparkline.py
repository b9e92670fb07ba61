"""A small inline SVG line chart of the readings that triggered a ticket, for the work order."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape


def svg(
    points: Sequence[tuple[float, float]],
    *,
    label: str,
    marks: Sequence[tuple[float, str]] = (),
    width: int = 320,
    height: int = 80,
    max_points: int = 160,
) -> str:
    """An `<svg>` of `points` (time, value) with vertical `marks` (time, name), e.g. onset.

    >>> chart = svg([(0, 4.0), (60, 4.2), (120, 9.1)], label="cabinet_temp_c")
    >>> chart.startswith("<svg") and "polyline" in chart
    True
    """
    finite = [(t, v) for t, v in points if math.isfinite(t) and math.isfinite(v)]
    if not finite:
        return ""
    finite.sort()
    step = max(1, math.ceil(len(finite) / max_points))
    shown = finite[::step]
    if shown[-1] != finite[-1]:
        shown.append(finite[-1])
    t0, t1 = shown[0][0], shown[-1][0]
    lo = min(v for _, v in shown)
    hi = max(v for _, v in shown)
    pad_top, pad_bottom, pad_x = 14, 4, 2
    span_t = (t1 - t0) or 1.0
    span_v = (hi - lo) or 1.0

    def x(t: float) -> float:
        return pad_x + (t - t0) / span_t * (width - 2 * pad_x)

    def y(v: float) -> float:
        return pad_top + (hi - v) / span_v * (height - pad_top - pad_bottom)

    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in shown)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
        f'<text x="2" y="10" font-size="9" font-family="sans-serif">{escape(label)} '
        f"{lo:.1f}–{hi:.1f}</text>",
    ]
    for t, name in marks:
        if t0 <= t <= t1:
            parts.append(
                f'<line x1="{x(t):.1f}" y1="{pad_top}" x2="{x(t):.1f}" y2="{height}" '
                f'stroke="#c33" stroke-dasharray="2,2"><title>{escape(name)}</title></line>'
            )
    parts.append(f'<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="{line}"/>')
    parts.append("</svg>")
    return "".join(parts)
