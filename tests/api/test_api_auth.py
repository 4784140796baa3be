# SPDX-License-Identifier: MIT
"""Authentication: the password flow, JWT access tokens, API keys; no route without a caller."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import factories
import pytest
from api_helpers import AUTH, make_caller, openapi_routes

from api.auth import AuthConfig, Principal
from api.auth.keys import create_key
from api.auth.tokens import issue_access_token
from api.auth.users import UserError, create_user

# Routes a caller may reach without credentials; everything else must answer 401.
PUBLIC = {("POST", "/auth/token"), ("GET", "/healthz")}
# The ways in for people without credentials yet: redeeming an invitation, a shop applying.
PUBLIC |= {("POST", "/auth/invitations/accept"), ("POST", "/auth/shop-applications")}
# A service report's check by the code printed on it (its PDF's QR code leads there).
PUBLIC |= {("GET", "/reports/verify/{code}")}


def _expect_401(response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def test_password_flow_issues_a_token_that_authenticates(conn, client):
    user_id = create_user(conn=conn, email="Ann@Example.test", role="owner", password="pa55-word")
    response = client.post(
        "/auth/token", data={"username": "ann@example.test", "password": "pa55-word"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "user_id": user_id,
        "role": "owner",
        "fleet_id": None,
        "shop_id": None,
        "key_id": None,
    }


@pytest.mark.parametrize(
    "form",
    [
        {"username": "ann@example.test", "password": "wrong"},
        {"username": "nobody@example.test", "password": "pa55-word"},
        {"username": "keyonly@example.test", "password": ""},
    ],
)
def test_password_flow_refuses_wrong_credentials_alike(conn, client, form):
    create_user(conn=conn, email="ann@example.test", role="owner", password="pa55-word")
    create_user(conn=conn, email="keyonly@example.test", role="owner")
    response = client.post("/auth/token", data=form)
    if form["password"] == "":
        assert response.status_code == 422  # the OAuth2 form requires a password
        return
    _expect_401(response)
    assert response.json()["type"] == "/problems/invalid-credentials"


def test_no_forged_expired_or_foreign_token_gets_in(conn, client):
    caller = make_caller(conn, "admin")
    assert client.get("/auth/me", headers=caller.headers).status_code == 200
    other = AuthConfig(jwt_secret="another-deployment-secret-0123456789-abcdef")
    expired = issue_access_token(AUTH, caller.user_id, now=datetime.now(UTC) - timedelta(hours=1))
    for token in (issue_access_token(other, caller.user_id), expired, "eyJ.not.a-jwt", "x"):
        _expect_401(client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}))
    _expect_401(client.get("/auth/me"))
    _expect_401(client.get("/auth/me", headers={"Authorization": "Basic YTpi"}))


def test_disabled_user_is_refused_at_once(conn, client):
    caller = make_caller(conn, "owner")
    conn.execute("UPDATE users SET disabled = true WHERE user_id = %s", (caller.user_id,))
    _expect_401(client.get("/auth/me", headers=caller.headers))


def test_api_key_in_either_header_shown_once_and_revocable(conn, client):
    caller = make_caller(conn, "fleet_manager", fleet_id=_fleet(conn))
    created = client.post("/auth/keys", json={"name": "ci"}, headers=caller.headers)
    assert created.status_code == 201
    new = created.json()
    assert re.fullmatch(r"wl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", new["key"])
    by_header = client.get("/auth/me", headers={"X-API-Key": new["key"]}).json()
    by_bearer = client.get("/auth/me", headers={"Authorization": f"Bearer {new['key']}"}).json()
    assert by_header == by_bearer and by_header["key_id"] == new["key_id"]
    assert by_header["user_id"] == caller.user_id

    (listed,) = client.get("/auth/keys", headers=caller.headers).json()
    assert new["key"] not in str(listed) and listed["last_used_at"] is not None
    stored = conn.execute("SELECT secret_hash FROM api_keys").fetchone()[0]
    assert stored.startswith("$argon2id$") and new["key"].split("_")[2] not in stored

    revoked = client.delete(f"/auth/keys/{new['key_id']}", headers=caller.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    _expect_401(client.get("/auth/me", headers={"X-API-Key": new["key"]}))


def test_a_key_with_a_wrong_secret_is_refused(conn, client):
    caller = make_caller(conn, "owner")
    key = create_key(conn=conn, user_id=caller.user_id).key
    prefix = key.rsplit("_", 1)[0]
    for bad in (prefix + "_" + "A" * 43, prefix, "wl_", "wl_deadbeef0000_x"):
        _expect_401(client.get("/auth/me", headers={"X-API-Key": bad}))


def test_users_need_their_tenant(conn):
    with pytest.raises(UserError, match="fleet"):
        create_user(conn=conn, email="fm@example.test", role="fleet_manager")
    with pytest.raises(UserError, match="shop"):
        create_user(conn=conn, email="st@example.test", role="shop_staff")
    with pytest.raises(UserError, match="role"):
        create_user(conn=conn, email="x@example.test", role="root")  # type: ignore[arg-type]
    create_user(conn=conn, email="a@example.test", role="owner")
    with pytest.raises(UserError, match="exists"):
        create_user(conn=conn, email="A@example.test", role="owner")


def test_every_route_but_the_public_ones_needs_a_caller(client):
    seen = set()
    for method, path in openapi_routes(client.app):
        seen.add((method, path))
        if (method, path) in PUBLIC:
            continue
        # Any well-formed id: authentication is checked before the object is looked up.
        url = re.sub(r"\{[a-z_]+\}", "1", path)
        _expect_401(client.request(method, url))
    assert seen >= PUBLIC


def _fleet(conn) -> int:
    return factories.fleet(conn, name="f").fleet_id


def test_principal_names_its_user_for_event_logs():
    assert Principal(user_id=7, role="owner").subject == "user:7"
