# SPDX-License-Identifier: MIT
"""The browser for the browser tests: Debian's Chromium under Playwright, and the app served
by uvicorn in a thread of the test process.

Without Chromium (or Playwright) the browser tests are skipped with one line saying how to get
them; ``WL_BROWSER_TESTS=required`` (CI) makes that a failure instead.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from wrenchlight.embedded import free_port

HOW_TO_ENABLE = (
    "BROWSER TESTS SKIPPED: no Chromium found. Enable them with `apt-get install -y chromium` "
    "(or WL_CHROMIUM=/path/to/chromium); WL_BROWSER_TESTS=required makes this a failure."
)


def chromium_path() -> str | None:
    """Where Chromium is: WL_CHROMIUM when set (even if it is not there), else Debian's."""
    chosen = os.environ.get("WL_CHROMIUM")
    candidates = [chosen] if chosen else [shutil.which("chromium"), "/usr/bin/chromium"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def playwright_installed() -> bool:
    """Whether Playwright for Python can be imported."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def browser_tests_skipped() -> bool:
    """Whether the browser tests are to be skipped: no browser, and not required."""
    missing = chromium_path() is None or not playwright_installed()
    return missing and os.environ.get("WL_BROWSER_TESTS") != "required"


def missing_browser(reason: str) -> None:
    """Skip (or, when browser tests are required, fail) for want of a browser."""
    if os.environ.get("WL_BROWSER_TESTS") == "required":
        pytest.fail(f"browser tests are required (WL_BROWSER_TESTS=required): {reason}")
    pytest.skip(HOW_TO_ENABLE)


class ThreadServer:
    """uvicorn serving ``app`` on a free port of 127.0.0.1 in a daemon thread."""

    def __init__(self, app, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)

    def start(self, timeout_s: float = 20.0) -> str:
        """Serve; returns the base URL once uvicorn listens."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the web app did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for it."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
