# SPDX-License-Identifier: MIT
"""Invitations: an admin invites a person into a role; the person sets their own password.

The token is 256 random bits handed to the invitee (by hand or, later, by mail) and is the
only proof they need, so it works once and expires. Only its SHA-256 is stored: a slow hash
buys nothing against a secret that cannot be guessed, and a fast one can be looked up.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from api.auth.principal import ROLES, Role, ShopRole
from api.auth.users import UserError, check_tenancy, create_user, shop_role_of
from api.problems import ProblemError
from db.rows import record, scalar

# Long enough to survive a weekend and a holiday; short enough that a forgotten link in an
# old chat is dead.
INVITATION_TTL = timedelta(days=7)
TOKEN_BYTES = 32


@dataclass(frozen=True)
class NewInvitation:
    """An invitation just made: ``token`` is seen this once."""

    invitation_id: int
    token: str
    email: str
    role: Role
    fleet_id: int | None
    shop_id: int | None
    expires_at: datetime
    shop_role: ShopRole | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    *,
    conn: psycopg.Connection,
    email: str,
    role: Role,
    now: datetime,
    fleet_id: int | None = None,
    shop_id: int | None = None,
    created_by: int | None = None,
    ttl: timedelta = INVITATION_TTL,
    shop_role: ShopRole | None = None,
) -> NewInvitation:
    """Invite ``email`` into ``role``; UserError when the role, tenancy or email is wrong.

    Shop staff are invited as ``shop_role``; without one, as the shop's manager while it has
    none (an admin's first invitation to a new shop), else as a technician."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "fleet_manager" and fleet_id is None:
        raise UserError("a fleet manager is invited into a fleet: give fleet_id")
    if role == "shop_staff" and shop_id is None:
        raise UserError("shop staff are invited into a shop: give shop_id")
    check_tenancy(conn=conn, fleet_id=fleet_id, shop_id=shop_id)
    shop_role = shop_role_of(conn=conn, role=role, shop_id=shop_id, shop_role=shop_role)
    taken = conn.execute("SELECT 1 FROM users WHERE lower(email) = lower(%s)", (email,))
    if taken.fetchone() is not None:
        raise UserError(
            f"a user with email {email!r} exists; they sign in with their password "
            "(POST /auth/token) and need no invitation"
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + ttl
    invitation_id = scalar(
        conn,
        "INSERT INTO invitations (token_sha256, email, role, fleet_id, shop_id, created_by, "
        "created_at, expires_at, shop_role) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "RETURNING invitation_id",
        (_digest(token), email, role, fleet_id, shop_id, created_by, now, expires_at, shop_role),
    )
    assert invitation_id is not None
    return NewInvitation(
        int(invitation_id), token, email, role, fleet_id, shop_id, expires_at, shop_role
    )


@dataclass(frozen=True, slots=True)
class _Stored:
    """An invitation as stored: whom it makes, and whether it may still be used."""

    invitation_id: int
    email: str
    role: Role
    fleet_id: int | None
    shop_id: int | None
    expires_at: datetime
    accepted_at: datetime | None
    shop_role: ShopRole | None


def _gone(detail: str) -> ProblemError:
    return ProblemError(410, "invitation-unusable", "Invitation cannot be used", detail)


def accept(*, conn: psycopg.Connection, token: str, password: str, now: datetime) -> int:
    """Redeem an invitation: create its user with ``password`` and return their id.

    ProblemError 404 for an unknown token, 410 for a used or expired one.
    """
    with conn.transaction():
        row = record(
            conn,
            _Stored,
            "SELECT invitation_id, email, role, fleet_id, shop_id, expires_at, accepted_at, "
            "shop_role FROM invitations WHERE token_sha256 = %s FOR UPDATE",
            (_digest(token),),
        )
        if row is None:
            raise ProblemError(
                404,
                "invitation-not-found",
                "Invitation not found",
                "No invitation has this token: check it was copied whole, or ask whoever "
                "invited you for a new one.",
            )
        if row.accepted_at is not None:
            raise _gone(
                "This invitation was used already: sign in with your email and password at "
                "POST /auth/token, or ask an admin for a new invitation."
            )
        if row.expires_at <= now:
            raise _gone(
                f"This invitation expired at {row.expires_at.isoformat()}: ask whoever invited "
                "you for a new one."
            )
        try:
            user_id = create_user(
                conn=conn,
                email=row.email,
                role=row.role,
                password=password,
                fleet_id=row.fleet_id,
                shop_id=row.shop_id,
                shop_role=row.shop_role,
            )
        except UserError as exc:
            raise ProblemError(409, "user-exists", "Cannot create the user", str(exc)) from exc
        conn.execute(
            "UPDATE invitations SET accepted_at = %s, user_id = %s WHERE invitation_id = %s",
            (now, user_id, row.invitation_id),
        )
    return user_id
