# SPDX-License-Identifier: MIT
"""The server's app (``wrenchlight api``, its workers) carries the web app beside the API,
configured from the settings; the API alone (``api.create_app``) stays as it was."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api import create_app
from wrenchlight.api_config import build_app, web_config
from wrenchlight.settings import Settings


def test_the_served_app_has_the_pages_and_the_api(db_url, monkeypatch):
    monkeypatch.setenv("WRENCHLIGHT_SMTP_URL", "smtp://127.0.0.1:2525")
    monkeypatch.setenv("WRENCHLIGHT_MAIL_FROM", "Wrenchlight <noreply@wl.example>")
    settings = Settings(_env_file=None)
    with TestClient(build_app(settings, db_url)) as client:
        assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
        page = client.get("/app/signin")
        assert page.status_code == 200 and "Email me a sign-in link" in page.text
        # The pages are not part of the API's contract.
        assert not any(
            path.startswith("/app") for path in client.get("/openapi.json").json()["paths"]
        )
    assert web_config(settings).mail_from == "Wrenchlight <noreply@wl.example>"


def test_links_point_at_the_server_unless_told_otherwise(monkeypatch):
    monkeypatch.setenv("WRENCHLIGHT_API_PORT", "8123")
    assert web_config(Settings(_env_file=None)).base_url == "http://127.0.0.1:8123"
    monkeypatch.setenv("WRENCHLIGHT_WEB_BASE_URL", "https://wl.example")
    assert web_config(Settings(_env_file=None)).base_url == "https://wl.example"


def test_the_api_alone_has_no_pages(db_url):
    with TestClient(create_app(db_url)) as client:
        assert client.get("/app/signin").status_code == 404
