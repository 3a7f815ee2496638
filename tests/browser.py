"""Finding Debian's Chromium for the browser tests (Playwright never downloads a browser).

A machine without Chromium skips browser tests with the install command as the reason;
`.ci/run` sets KG_REQUIRE_BROWSER=1, which turns that skip into a failure, so CI never goes
green without the browser tests having run. Use the `chromium` fixture of conftest.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

INSTALL = "apt-get install chromium"
REQUIRE_ENV = "KG_REQUIRE_BROWSER"
# Where Debian's package puts it; $KG_CHROMIUM overrides, then PATH is searched.
NAMES = ("chromium", "chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]  # and --headless, which Playwright adds for headless=True


def chromium_path() -> Path | None:
    """The Chromium executable: $KG_CHROMIUM if set, else the first of NAMES on PATH."""
    explicit = os.environ.get("KG_CHROMIUM")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def require_chromium() -> Path:
    """Chromium's path; skip the calling test without one (fail under KG_REQUIRE_BROWSER=1)."""
    path = chromium_path()
    if path is not None:
        return path
    message = f"no Chromium on PATH (or at $KG_CHROMIUM): {INSTALL} (.ci/run does)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 and {message}")
    pytest.skip(message)
