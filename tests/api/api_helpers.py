# SPDX-License-Identifier: MIT
"""Callers of each role for the API tests: a user and the headers that authenticate them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from api.auth import AuthConfig, Role
from api.auth.tokens import issue_access_token
from api.auth.users import create_user

AUTH = AuthConfig(jwt_secret="tests-only-signing-secret-of-48-bytes-0123456789")
_emails = itertools.count()


@dataclass(frozen=True)
class Caller:
    """A user of the test database and the headers that authenticate them."""

    user_id: int
    role: Role
    headers: dict[str, str]


def make_caller(
    conn, role: Role, *, fleet_id: int | None = None, shop_id: int | None = None
) -> Caller:
    """A new user with an access token (no password: hashing one costs tens of ms)."""
    user_id = create_user(
        conn=conn,
        email=f"{role}-{next(_emails)}@example.test",
        role=role,
        fleet_id=fleet_id,
        shop_id=shop_id,
    )
    token = issue_access_token(AUTH, user_id)
    return Caller(user_id, role, {"Authorization": f"Bearer {token}"})


def openapi_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, from its OpenAPI document."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]
