"""A real headless browser for the pages: Debian's chromium driven by Playwright (PyPI).

Playwright's own browser download is not used; without /usr/bin/chromium these tests skip,
saying so. One browser per test session (launching costs about a second)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doors import World, running_world

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

if not CHROMIUM.exists():
    pytest.skip(
        "browser tests need Debian's chromium at /usr/bin/chromium (./scripts/setup installs it)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=10_000)


# Per module, not per session: sync Playwright keeps an event loop running in the main
# thread while it lives, which later tests that call asyncio.run() cannot bear.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Under `scripts/test-at` the service's clock is faked; the browser is the user's own
    # program on the user's clock (and chromium does not load pages under libfaketime),
    # so Playwright's driver and chromium start without it.
    faked = {k: os.environ.pop(k) for k in list(os.environ) if _faketime_variable(k)}
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=dict(os.environ)
            )
            os.environ.update(faked)
            yield launched
            launched.close()
    finally:
        os.environ.update(faked)


def _faketime_variable(name: str) -> bool:
    return name == "LD_PRELOAD" or name.startswith(("FAKETIME", "DONT_FAKE"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with running_world(tmp_path) as world:
        yield world


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(**DESKTOP)  # type: ignore[arg-type]
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    yield context.new_page()
    context.close()


def snap(page: Page, name: str) -> None:
    """Save a screenshot when FAULTLINE_SCREENSHOTS names a folder (for looking, not asserting)."""
    folder = os.environ.get("FAULTLINE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
