# SPDX-License-Identifier: MIT
"""``wrenchlight admin``: the first admin and their key, made from the command line, work."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import create_app
from api.devices.credentials import issue
from wrenchlight import admin_cmds  # noqa: F401  # importing it registers `admin`
from wrenchlight.api_config import auth_config, rate_limits
from wrenchlight.cli import app
from wrenchlight.settings import Settings


def _run(db_url, *args, env=None):
    return CliRunner().invoke(
        app, list(args), env={"WRENCHLIGHT_DATABASE_URL": db_url} | (env or {})
    )


def test_create_user_and_key_bootstrap_an_admin(db_url):
    made = _run(
        db_url,
        "admin",
        "create-user",
        "--email",
        "root@example.test",
        "--role",
        "admin",
        "--json",
        env={"WRENCHLIGHT_NEW_PASSWORD": "first-admin-pw"},
    )
    assert made.exit_code == 0, made.output
    user = json.loads(made.stdout)
    assert user["role"] == "admin"
    keyed = _run(db_url, "admin", "create-key", "--email", "ROOT@example.test", "--json")
    assert keyed.exit_code == 0, keyed.output
    key = json.loads(keyed.stdout)
    assert key["user_id"] == user["user_id"] and key["key"].startswith("wl_")
    with TestClient(create_app(db_url)) as client:
        me = client.get("/auth/me", headers={"X-API-Key": key["key"]}).json()
        token = client.post(
            "/auth/token", data={"username": "root@example.test", "password": "first-admin-pw"}
        )
    assert me["user_id"] == user["user_id"] and me["role"] == "admin"
    assert token.status_code == 200


def test_create_user_refuses_a_fleet_manager_without_a_fleet(db_url):
    result = _run(
        db_url, "admin", "create-user", "--email", "fm@example.test", "--role", "fleet_manager"
    )
    assert result.exit_code == 2 and "fleet" in result.output
    assert _run(db_url, "admin", "create-key", "--email", "fm@example.test").exit_code == 2


def test_mqtt_passwd_writes_a_private_password_file(conn, db_url, tmp_path):
    vehicle_id = conn.execute(
        "INSERT INTO vehicles (vin) VALUES ('WLADMXN0000000001') RETURNING vehicle_id"
    ).fetchone()[0]
    conn.execute("INSERT INTO devices (device_id, vehicle_id) VALUES ('d1', %s)", (vehicle_id,))
    issue(conn=conn, device_id="d1", created_by=None)
    out = tmp_path / "passwd"
    result = _run(db_url, "admin", "mqtt-passwd", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("d1:$7$") and out.stat().st_mode & 0o777 == 0o600


def test_token_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("WRENCHLIGHT_JWT_SECRET", "s" * 40)
    monkeypatch.setenv("WRENCHLIGHT_ACCESS_TOKEN_MINUTES", "5")
    monkeypatch.setenv("WRENCHLIGHT_API_RATE_LIMIT", "5/second")
    config = auth_config(Settings())
    assert config.jwt_secret == "s" * 40 and config.access_token_ttl.total_seconds() == 300
    assert rate_limits(Settings()).per_caller == "5/second"
