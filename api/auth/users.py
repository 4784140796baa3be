# SPDX-License-Identifier: MIT
"""Users: creation, passwords, password login, and the principal a user id stands for."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from api.auth.hashing import hash_password, verify_password
from api.auth.principal import ROLES, SHOP_ROLES, Principal, Role, ShopRole
from api.auth.schemas import PASSWORD_MIN
from db.rows import record, scalar


@dataclass(frozen=True, slots=True)
class _Tenancy:
    """A user's role and the fleet or shop they belong to."""

    role: Role
    fleet_id: int | None
    shop_id: int | None
    shop_role: ShopRole | None


@dataclass(frozen=True, slots=True)
class _Login:
    """What signing in checks of a user."""

    user_id: int
    password_hash: str | None


class UserError(ValueError):
    """A user cannot be created as asked (bad role, tenancy, or a taken email)."""


def default_shop_role(*, conn: psycopg.Connection, shop_id: int) -> ShopRole:
    """A new staff account's role: manager while the shop has no enabled manager, so every
    shop's first staff can keep its profile; technician after that."""
    found = scalar(
        conn,
        "SELECT count(*) FROM users WHERE shop_id = %s AND role = 'shop_staff' "
        "AND shop_role = 'manager' AND NOT disabled",
        (shop_id,),
    )
    return "technician" if found else "manager"


def shop_role_of(
    *, conn: psycopg.Connection, role: str, shop_id: int | None, shop_role: ShopRole | None
) -> ShopRole | None:
    """The shop role a new account gets: none outside a shop; the one asked for, if it is one
    (callers may pass what a request said, unchecked); else the shop's default."""
    if role != "shop_staff":
        return None
    if shop_role is None:
        assert shop_id is not None
        return default_shop_role(conn=conn, shop_id=shop_id)
    if shop_role not in SHOP_ROLES:
        raise UserError(f"shop_role must be one of {', '.join(SHOP_ROLES)}, not {shop_role!r}")
    return shop_role


def create_user(
    *,
    conn: psycopg.Connection,
    email: str,
    role: Role,
    password: str | None = None,
    fleet_id: int | None = None,
    shop_id: int | None = None,
    shop_role: ShopRole | None = None,
) -> int:
    """Insert a user and return their id; ``password`` None means API keys only.

    Shop staff get ``shop_role``; without one, the shop's first manager-less staff account
    becomes its manager and later ones technicians (``default_shop_role``)."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "fleet_manager" and fleet_id is None:
        raise UserError("a fleet manager needs a fleet")
    if role == "shop_staff" and shop_id is None:
        raise UserError("shop staff need a shop")
    check_tenancy(conn=conn, fleet_id=fleet_id, shop_id=shop_id)
    shop_role = shop_role_of(conn=conn, role=role, shop_id=shop_id, shop_role=shop_role)
    try:
        user_id = scalar(
            conn,
            "INSERT INTO users (email, password_hash, role, fleet_id, shop_id, shop_role) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING user_id",
            (
                email,
                hash_password(password) if password else None,
                role,
                fleet_id,
                shop_id,
                shop_role,
            ),
        )
    except psycopg.errors.UniqueViolation as exc:
        raise UserError(f"a user with email {email!r} exists") from exc
    except (psycopg.errors.ForeignKeyViolation, psycopg.errors.CheckViolation) as exc:
        raise UserError(str(exc.diag.message_primary)) from exc
    assert user_id is not None
    return int(user_id)


def set_password(*, conn: psycopg.Connection, email: str, password: str) -> int:
    """Give the user with ``email`` a new password and return their id (UserError if refused)."""
    if len(password) < PASSWORD_MIN:
        raise UserError(f"a password needs at least {PASSWORD_MIN} characters")
    # Emails match as login matches them: a user signs in with any capitalisation.
    user_id = scalar(
        conn,
        "UPDATE users SET password_hash = %s WHERE lower(email) = lower(%s) RETURNING user_id",
        (hash_password(password), email),
    )
    if user_id is None:
        raise UserError(
            f"no user with email {email!r}; create one with `wrenchlight admin create-user` "
            "(or invite them with POST /auth/invitations)"
        )
    return int(user_id)


def check_tenancy(*, conn: psycopg.Connection, fleet_id: int | None, shop_id: int | None) -> None:
    """UserError saying how to make the fleet or shop when one named does not exist."""
    if fleet_id is not None and not _exists(conn, "fleets", "fleet_id", fleet_id):
        raise UserError(
            f"fleet {fleet_id} does not exist; create one with "
            "`wrenchlight admin create-fleet NAME` (or POST /fleets) and use its id"
        )
    if shop_id is not None and not _exists(conn, "shops", "shop_id", shop_id):
        raise UserError(
            f"shop {shop_id} does not exist; create one with "
            "`wrenchlight admin create-shop` (or POST /shops) and use its id"
        )


def _exists(conn: psycopg.Connection, table: str, column: str, object_id: int) -> bool:
    # Table and column are constants of this module; the id travels as a parameter.
    query = sql.SQL("SELECT 1 FROM {} WHERE {} = %s").format(
        sql.Identifier(table), sql.Identifier(column)
    )
    try:
        return scalar(conn, query, (object_id,)) is not None
    except psycopg.errors.NumericValueOutOfRange:  # past bigint: no such row can exist
        return False


def set_disabled(*, conn: psycopg.Connection, user_id: int, disabled: bool) -> bool:
    """Disable or enable a user; False when there is no such user.

    A disabled user is refused at once everywhere: tokens and keys on their next request
    (``principal_of``), open event streams at the hub's next tick (``api.streams``), passwords
    at login (``authenticate``). Their web sessions are the web app's to end.
    """
    found = scalar(
        conn,
        "UPDATE users SET disabled = %s WHERE user_id = %s RETURNING user_id",
        (disabled, user_id),
    )
    return found is not None


def principal_of(
    *, conn: psycopg.Connection, user_id: int, key_id: int | None = None
) -> Principal | None:
    """The principal of an enabled user, or None when there is no such (enabled) user."""
    row = record(
        conn,
        _Tenancy,
        "SELECT role, fleet_id, shop_id, shop_role FROM users WHERE user_id = %s AND NOT disabled",
        (user_id,),
    )
    if row is None:
        return None
    return Principal(
        user_id=user_id,
        role=row.role,
        fleet_id=row.fleet_id,
        shop_id=row.shop_id,
        key_id=key_id,
        shop_role=row.shop_role,
    )


def authenticate(*, conn: psycopg.Connection, email: str, password: str) -> int | None:
    """The user id when email and password match an enabled user, else None."""
    row = record(
        conn,
        _Login,
        "SELECT user_id, password_hash FROM users WHERE lower(email) = lower(%s) AND NOT disabled",
        (email,),
    )
    # A missing user costs a hash check too, so the time taken does not tell who exists.
    if not verify_password(row.password_hash if row else None, password):
        return None
    return int(row.user_id) if row is not None else None
