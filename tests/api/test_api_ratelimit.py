# SPDX-License-Identifier: MIT
"""Rate limits: each API key has its own budget; password logins are limited per client."""

from __future__ import annotations

from api_helpers import AUTH, make_caller
from fastapi.testclient import TestClient

from api import create_app
from api.auth.keys import create_key
from api.auth.users import create_user
from api.ratelimit import RateLimits

LIMITS = RateLimits(per_caller="3/minute", logins_per_client="2/minute")


def _429(response) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["type"] == "/problems/rate-limited"


def test_each_key_has_its_own_budget(conn, db_url):
    caller = make_caller(conn, "owner")
    first = {"X-API-Key": create_key(conn=conn, user_id=caller.user_id).key}
    second = {"X-API-Key": create_key(conn=conn, user_id=caller.user_id).key}
    with TestClient(create_app(db_url, auth=AUTH, rate_limits=LIMITS)) as client:
        assert [client.get("/auth/me", headers=first).status_code for _ in range(3)] == [200] * 3
        _429(client.get("/vehicles", headers=first))
        assert client.get("/auth/me", headers=second).status_code == 200
        assert client.get("/auth/me", headers=caller.headers).status_code == 200


def test_password_logins_are_limited_per_client(conn, db_url):
    create_user(conn=conn, email="ann@example.test", role="owner", password="pa55-word")
    wrong = {"username": "ann@example.test", "password": "guess"}
    right = {"username": "ann@example.test", "password": "pa55-word"}
    with TestClient(create_app(db_url, auth=AUTH, rate_limits=LIMITS)) as client:
        assert client.post("/auth/token", data=wrong).status_code == 401
        assert client.post("/auth/token", data=wrong).status_code == 401
        _429(client.post("/auth/token", data=right))
