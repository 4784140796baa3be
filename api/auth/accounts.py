# SPDX-License-Identifier: MIT
"""Accounts ready to use: a user with a password and an API key, made in one call.

The demo and the CLI make their people this way; the API makes people through invitations
(``api.auth.invitations``), so that nobody but the invitee ever knows their password.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from api.auth.keys import create_key
from api.auth.principal import Role
from api.auth.users import create_user


@dataclass(frozen=True)
class Account:
    """A user just made, with the secret of their first API key (seen this once)."""

    user_id: int
    email: str
    role: Role
    fleet_id: int | None
    shop_id: int | None
    key_id: int
    api_key: str


def create_account(
    *,
    conn: psycopg.Connection,
    email: str,
    role: Role,
    password: str,
    fleet_id: int | None = None,
    shop_id: int | None = None,
    key_name: str = "first key",
) -> Account:
    """Create a user with ``password`` and one API key, both or neither (UserError if refused)."""
    with conn.transaction():
        user_id = create_user(
            conn=conn,
            email=email,
            role=role,
            password=password,
            fleet_id=fleet_id,
            shop_id=shop_id,
        )
        key = create_key(conn=conn, user_id=user_id, name=key_name)
    return Account(
        user_id=user_id,
        email=email,
        role=role,
        fleet_id=fleet_id,
        shop_id=shop_id,
        key_id=key.key_id,
        api_key=key.key,
    )
