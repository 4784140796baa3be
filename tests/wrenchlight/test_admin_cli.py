# SPDX-License-Identifier: MIT
"""``wrenchlight admin``: the first admin and their key, made from the command line, work."""

from __future__ import annotations

import json

import factories
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import create_app
from api.devices.credentials import issue
from wrenchlight.api_config import auth_config, rate_limits
from wrenchlight.cli import build_app
from wrenchlight.settings import Settings

app = build_app()


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
    factories.device(conn, factories.vehicle(conn).vehicle_id, device_id="d1")
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


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_missing_fleet_or_shop_is_named_in_one_line_that_says_how_to_make_one(db_url):
    for option, kind in (("--fleet-id", "fleet"), ("--shop-id", "shop")):
        role = "fleet_manager" if kind == "fleet" else "shop_staff"
        result = _run(
            db_url,
            "admin",
            "create-user",
            "--email",
            "x@example.test",
            "--role",
            role,
            option,
            "999",
        )
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert f"{kind} 999 does not exist" in lines[0]
        assert f"wrenchlight admin create-{kind}" in lines[0]
        assert "ForeignKey" not in lines[0] and "violates" not in lines[0]


def test_an_admin_makes_a_fleet_and_a_shop_and_invites_their_people(db_url, conn):
    fleet = _json(_run(db_url, "admin", "create-fleet", "Becker Logistics", "--json"))
    assert fleet["name"] == "Becker Logistics" and fleet["vehicles"] == 0
    shop = _json(
        _run(
            db_url,
            *("admin", "create-shop", "--name", "Lake St Garage", "--lat", "41.88"),
            *("--lon", "-87.78", "--capabilities", "oil_change;brake_pads"),
            *("--currency", "USD", "--timezone", "America/Chicago", "--json"),
        )
    )
    assert shop["verified"] is True and shop["capabilities"] == ["oil_change", "brake_pads"]
    bad = _run(
        db_url,
        "admin",
        "create-shop",
        "--name",
        "X",
        "--lat",
        "1",
        "--lon",
        "1",
        "--capabilities",
        "welding",
    )
    assert bad.exit_code == 2 and "capabilities" in bad.output
    manager = _json(
        _run(
            db_url,
            *("admin", "invite", "--email", "dana@becker.example", "--role", "fleet_manager"),
            *("--fleet-id", str(fleet["fleet_id"]), "--json"),
        )
    )
    staff = _json(
        _run(
            db_url,
            *("admin", "invite", "--email", "sam@lakest.example", "--role", "shop_staff"),
            *("--shop-id", str(shop["shop_id"]), "--json"),
        )
    )
    # Only a hash of each token is kept.
    stored = {r[0] for r in conn.execute("SELECT token_sha256 FROM invitations")}
    assert manager["token"] not in stored and len(stored) == 2
    with TestClient(create_app(db_url)) as client:
        for invited, password in ((manager, "fleet-pw-123"), (staff, "shop-pw-1234")):
            accepted = client.post(
                invited["accept_path"], json={"token": invited["token"], "password": password}
            )
            assert accepted.status_code == 201, accepted.text
            token = client.post(
                "/auth/token", data={"username": invited["email"], "password": password}
            ).json()["access_token"]
            me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
            assert (me["fleet_id"], me["shop_id"]) == (invited["fleet_id"], invited["shop_id"])


def test_verify_shop_and_pairing_codes_from_the_command_line(db_url, conn):
    shop_id = factories.shop(conn, name="Applied", lat=1, lon=1, verified_at=None).shop_id
    waiting = _run(db_url, "admin", "shops", "--pending")
    assert waiting.exit_code == 0 and "waiting" in waiting.output and "Applied" in waiting.output
    verified = _json(_run(db_url, "admin", "verify-shop", str(shop_id), "--json"))
    assert _run(db_url, "admin", "shops", "--pending").output == ""
    assert verified["verified"] is True
    missing = _run(db_url, "admin", "verify-shop", "999999")
    assert missing.exit_code == 2 and "No shop with id 999999" in missing.output
    factories.device(conn, factories.vehicle(conn).vehicle_id, device_id="d2")
    codes = _json(_run(db_url, "admin", "pairing-code", "d2", "--json"))["pairing_codes"]
    assert set(codes) == {"d2"} and len(codes["d2"]) == 11
    nothing = _run(db_url, "admin", "pairing-code", "d2", "nope")
    assert nothing.exit_code == 2 and "no device nope" in nothing.output
