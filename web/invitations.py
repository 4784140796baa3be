# SPDX-License-Identifier: MIT
"""Accepting an invitation in the web app, and the invitation's mail.

An admin invites a person into a role (``api.auth.invitations``: a fleet's manager from the
console, a shop's staff through ``POST /auth/invitations``); the person opens the link of the
mail (or types the code they were handed) at ``/invitations/accept``, chooses a password and
gives their name, and is signed in. Redeeming is the API's own ``invitations.accept`` (once,
before it expires, only its SHA-256 stored); this module reads what the page says about an
invitation before it is used (whom it makes, or why it cannot be used) and keeps the name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import psycopg

from api.auth import invitations
from api.auth.schemas import PASSWORD_MIN
from api.problems import ProblemError
from db.rows import record

NAME_MAX = 120  # characters (revision 0026's check)
PASSWORD_MAX = 200  # as the API's InvitationAccept takes it
TOKEN_MAX = 200


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation as its page shows it: whom it makes, into what."""

    email: str
    role: str
    fleet_name: str | None
    shop_name: str | None
    expires_at: datetime
    accepted_at: datetime | None


class Unusable(Exception):
    """The code cannot be used; ``why`` is ``unknown``, ``used`` or ``expired``."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _digest(token: str) -> str:
    # As api.auth.invitations stores it: the hex SHA-256 of the token.
    return hashlib.sha256(token.encode()).hexdigest()


def find(*, conn: psycopg.Connection, token: str, now: datetime) -> Invitation:
    """The usable invitation of ``token``; Unusable (unknown, used, expired) otherwise."""
    token = token.strip()
    if not token or len(token) > TOKEN_MAX:
        raise Unusable("unknown")
    found = record(
        conn,
        Invitation,
        "SELECT i.email, i.role, f.name AS fleet_name, s.name AS shop_name, i.expires_at, "
        "i.accepted_at FROM invitations i LEFT JOIN fleets f ON f.fleet_id = i.fleet_id "
        "LEFT JOIN shops s ON s.shop_id = i.shop_id WHERE i.token_sha256 = %s",
        (_digest(token),),
    )
    if found is None:
        raise Unusable("unknown")
    if found.accepted_at is not None:
        raise Unusable("used")
    if found.expires_at <= now:
        raise Unusable("expired")
    return found


class FormError(Exception):
    """The form's fields are wrong; ``errors`` by field name (``name``, ``password``)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def check_form(*, name: str, password: str, repeated: str) -> str:
    """The name as kept; FormError naming each wrong field's case."""
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX or "\x00" in name:
        errors["name"] = "name"
    if len(password) < PASSWORD_MIN or len(password) > PASSWORD_MAX or "\x00" in password:
        errors["password"] = "password_length"
    elif password != repeated:
        errors["password"] = "password_differs"
    if errors:
        raise FormError(errors)
    return name


def accept(*, conn: psycopg.Connection, token: str, name: str, password: str, now: datetime) -> int:
    """Redeem the invitation (the API's ``invitations.accept``) and keep the person's name;
    their user id. Unusable when the code is unknown, used or expired (also when it was used
    between the page and the form: the API's row lock decides)."""
    try:
        user_id = invitations.accept(conn=conn, token=token.strip(), password=password, now=now)
    except ProblemError as exc:
        why = {404: "unknown"}.get(exc.problem.status)
        if why is None:
            # 410 used or expired, 409 an account of that email made meanwhile.
            stored = record(
                conn,
                _Expiry,
                "SELECT expires_at FROM invitations WHERE token_sha256 = %s",
                (_digest(token.strip()),),
            )
            why = "expired" if stored and stored.expires_at <= now else "used"
        raise Unusable(why) from exc
    conn.execute("UPDATE users SET name = %s WHERE user_id = %s", (name, user_id))
    return user_id


@dataclass(frozen=True, slots=True)
class _Expiry:
    expires_at: datetime


def accept_url(base_url: str, root: str, token: str) -> str:
    """The page's address with ``token``, at the app's configured address (never the Host
    header, which whoever asks could point at their own site and so receive the token)."""
    return f"{base_url.rstrip('/')}{root}/invitations/accept?token={quote(token, safe='')}"
