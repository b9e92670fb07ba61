"""Progress lines for long commands (sim, eval, bench, model train): what is done so far,
how fast, and how long is left, at most every few seconds, on standard error."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`advance(n)` or `update(done)` as work goes; a line at most every `every_s` seconds.

    >>> import io
    >>> out = io.StringIO()
    >>> progress = Progress("readings", total=10, every_s=0.0, out=out)
    >>> progress.update(5)
    >>> "readings: 5/10 (50%)" in out.getvalue()
    True
    """

    def __init__(
        self,
        what: str,
        *,
        total: int | None = None,
        every_s: float = 5.0,
        out: TextIO | None = None,
    ) -> None:
        self.what = what
        self.total = total
        self.every_s = every_s
        self.out = out if out is not None else sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self._last = self.started

    def advance(self, count: int = 1) -> None:
        self.update(self.done + count)

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            self._print(now)

    def finish(self) -> None:
        self._print(time.monotonic())

    def _print(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        line = f"{self.what}: {self.done:,}"
        if self.total:
            line += f"/{self.total:,} ({100 * self.done / self.total:.0f}%)"
        line += f", {rate:,.0f}/s, {elapsed:.0f} s"
        if self.total and rate > 0 and self.done < self.total:
            line += f", about {(self.total - self.done) / rate:.0f} s left"
        print(line, file=self.out, flush=True)
