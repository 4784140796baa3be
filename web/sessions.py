# SPDX-License-Identifier: MIT
"""Server-side sessions: a row per signed-in browser, found by the hash of its cookie's token.

Expiry is decided with the caller's clock (``now``), the one that wrote ``expires_at``.
Signing out deletes the row; an expired one is deleted by ``prune``, a day after it ended
(``PRUNE_GRACE``), a bounded batch at each sign-in and all of them by ``wrenchlight admin
prune-sessions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from api.auth.principal import Principal
from db.rows import a_dict
from web.tokens import new_token, token_hash

Units = str  # "metric" or "imperial", as users.units allows
# A row is removed this long after it ended: the app's processes read their own clocks, and a
# row one of them, a little behind, still takes for live is not pulled from under it.
PRUNE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class WebUser:
    """The signed-in user of a request and their session."""

    principal: Principal
    email: str
    session_id: int
    csrf_token: str
    units: Units
    language: str | None


def start(
    *, conn: psycopg.Connection, user_id: int, now: datetime, ttl: timedelta
) -> tuple[str, datetime]:
    """A new session for ``user_id``: the cookie's token and when the session ends."""
    token = new_token()
    expires_at = now + ttl
    conn.execute(
        "INSERT INTO web_sessions (user_id, token_hash, csrf_token, created_at, expires_at) "
        "VALUES (%s, %s, %s, %s, %s)",
        (user_id, token_hash(token), new_token(), now, expires_at),
    )
    return token, expires_at


def find(*, conn: psycopg.Connection, token: str, now: datetime) -> WebUser | None:
    """The enabled user whose unexpired session ``token`` opens, or None."""
    row = a_dict(
        conn,
        "SELECT s.session_id, s.csrf_token, u.user_id, u.role, u.fleet_id, u.shop_id, u.shop_role, "
        "u.email, "
        "u.units, u.language FROM web_sessions s JOIN users u USING (user_id) "
        "WHERE s.token_hash = %s AND s.expires_at > %s AND NOT u.disabled",
        (token_hash(token), now),
    )
    if row is None:
        return None
    principal = Principal(
        user_id=row["user_id"],
        role=row["role"],
        fleet_id=row["fleet_id"],
        shop_id=row["shop_id"],
        shop_role=row["shop_role"],
    )
    return WebUser(
        principal=principal,
        email=row["email"],
        session_id=row["session_id"],
        csrf_token=row["csrf_token"],
        units=row["units"],
        language=row["language"],
    )


def end(*, conn: psycopg.Connection, session_id: int) -> None:
    """Sign this session out."""
    conn.execute("DELETE FROM web_sessions WHERE session_id = %s", (session_id,))


def end_all(*, conn: psycopg.Connection, user_id: int) -> int:
    """Sign the user out everywhere; returns how many sessions ended."""
    return conn.execute("DELETE FROM web_sessions WHERE user_id = %s", (user_id,)).rowcount


def set_preferences(
    *, conn: psycopg.Connection, user_id: int, units: Units | None, language: str | None
) -> None:
    """Store the user's units and language (None leaves one unchanged)."""
    conn.execute(
        "UPDATE users SET units = COALESCE(%s, units), language = COALESCE(%s, language) "
        "WHERE user_id = %s",
        (units, language, user_id),
    )


def prune(*, conn: psycopg.Connection, now: datetime, limit: int) -> int:
    """Delete up to ``limit`` sessions that expired before ``now - PRUNE_GRACE``; how many.

    Bounded (the rows by ``ctid``, ``LIMIT``) and never waiting: rows another transaction holds
    are skipped, left to the next call.
    """
    return conn.execute(
        "DELETE FROM web_sessions WHERE ctid = ANY(ARRAY("
        "SELECT ctid FROM web_sessions WHERE expires_at < %s LIMIT %s FOR UPDATE SKIP LOCKED))",
        (now - PRUNE_GRACE, limit),
    ).rowcount
