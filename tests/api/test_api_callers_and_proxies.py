# SPDX-License-Identifier: MIT
"""Rate limits count per user as well as per key (more keys buy no more requests), and the
client address of the login limit comes from X-Forwarded-For only behind a configured proxy
(issue 15, low findings). The proxy tests run the API in a real uvicorn on 127.0.0.1, where
uvicorn by itself would believe any local peer's X-Forwarded-For."""

from __future__ import annotations

import httpx2
from api_helpers import AUTH, make_caller
from fastapi.testclient import TestClient

from api import create_app
from api.auth.keys import create_key
from api.auth.users import create_user
from api.ratelimit import RateLimits
from wrenchlight.apiserver import ApiServer

LOGIN_LIMIT = 10  # RateLimits().logins_per_client: 10/minute


def test_a_users_keys_share_the_users_budget(conn, db_url):
    limits = RateLimits(per_caller="100/minute", per_user="3/minute")
    caller = make_caller(conn, "owner")
    keys = [{"X-API-Key": create_key(conn=conn, user_id=caller.user_id).key} for _ in range(3)]
    other = make_caller(conn, "owner")
    with TestClient(create_app(db_url, auth=AUTH, rate_limits=limits)) as client:
        # One request with each key: the user's three.
        assert [client.get("/auth/me", headers=k).status_code for k in keys] == [200] * 3
        refused = client.get("/auth/me", headers=caller.headers)  # the token: the same user
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        fresh = {"X-API-Key": create_key(conn=conn, user_id=caller.user_id).key}
        assert client.get("/auth/me", headers=fresh).status_code == 429  # a new key: still
        assert client.get("/auth/me", headers=other.headers).status_code == 200  # others not


def _logins(base_url: str, count: int) -> list[int]:
    """Wrong-password logins, each claiming another client address."""
    codes = []
    with httpx2.Client(base_url=base_url, timeout=30) as http:
        for i in range(count):
            response = http.post(
                "/auth/token",
                data={"username": "xff@example.test", "password": "wrong"},
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
            )
            codes.append(response.status_code)
    return codes


def test_forwarded_for_from_an_untrusted_peer_does_not_rotate_the_login_limit(conn, db_url):
    create_user(conn=conn, email="xff@example.test", role="owner", password="pa55-word-xff")
    server = ApiServer(db_url, port=0)
    base = server.start()
    try:
        codes = _logins(base, LOGIN_LIMIT + 1)
    finally:
        server.stop()
    assert codes == [401] * LOGIN_LIMIT + [429]


def test_forwarded_for_from_a_configured_proxy_is_the_client(conn, db_url):
    create_user(conn=conn, email="xff@example.test", role="owner", password="pa55-word-xff")
    server = ApiServer(db_url, port=0, trusted_proxies=("127.0.0.1",))
    base = server.start()
    try:
        codes = _logins(base, LOGIN_LIMIT + 1)
    finally:
        server.stop()
    # Each forwarded client has its own budget: the proxy is believed.
    assert codes == [401] * (LOGIN_LIMIT + 1)
