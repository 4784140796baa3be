# SPDX-License-Identifier: MIT
"""The web app on the real test database, a real SMTP server, and people to sign in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_browser import (
    HOW_TO_ENABLE,
    ThreadServer,
    browser_tests_skipped,
    chromium_path,
    missing_browser,
)
from web_helpers import Person, SmtpServer, make_owner, web_app

from wrenchlight.embedded import free_port


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """An SMTP server of this test's own."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(db_url, smtp) -> Iterator[TestClient]:
    """A browser-like client of the web app (no redirects followed, cookies kept)."""
    app = web_app(db_url, f"smtp://127.0.0.1:{smtp.port}")
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def owner(conn) -> Person:
    """An owner with a password."""
    return make_owner(conn)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a browser, skip the browser tests by a marker: pytest's summary then folds them
    into one line per file, the line saying how to enable them."""
    if not browser_tests_skipped():
        return
    skip = pytest.mark.skip(reason=HOW_TO_ENABLE)
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Chromium under Playwright, for the session (skipped, or failed, without one)."""
    executable = chromium_path()
    if executable is None:
        missing_browser("no chromium executable")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_browser("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


@pytest.fixture
def server(db_url, smtp) -> Iterator[str]:
    """The API with the web app, served over HTTP for the browser; its base URL."""
    port = free_port()
    app = web_app(db_url, f"smtp://127.0.0.1:{smtp.port}", base_url=f"http://127.0.0.1:{port}")
    running = ThreadServer(app, port)
    url = running.start()
    yield url
    running.stop()


@pytest.fixture
def page(chromium) -> Iterator[object]:
    """A fresh browser context (no cookies) and page, phone-sized by default."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    context.set_default_timeout(15_000)
    found = context.new_page()
    yield found
    context.close()


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    """Where screenshots go: WL_SCREENSHOT_DIR (docs/screenshots to refresh the docs'), else
    the test's own temporary directory."""
    chosen = os.environ.get("WL_SCREENSHOT_DIR")
    path = Path(chosen) if chosen else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path
