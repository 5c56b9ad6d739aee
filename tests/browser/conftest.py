"""Headless Chromium for the browser tests: Debian's, driven by Playwright's own driver.

Without the browser the tests skip on a developer's machine and fail under CI (``CI`` set),
where they must run (``make browser-deps`` installs it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser test (make browser-deps installs it).")
    pytest.skip(f"{reason}; install it with `make browser-deps` to run this test.")


@pytest.fixture
def sync_playwright():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[dev]')")
    return sync_playwright
