# SPDX-License-Identifier: MIT
"""The web app on the real test database, a real SMTP server, and people to sign in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import Person, SmtpServer, make_owner, web_app


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
