# SPDX-License-Identifier: MIT
"""One-time sign-in links: issued for an email's user, redeemed once before they expire.

A used or expired link is deleted by ``prune`` once ``sessions.PRUNE_GRACE`` has passed, like
the sessions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from db.rows import a_dict, scalar
from web.sessions import PRUNE_GRACE
from web.tokens import new_token, token_hash


def issue(
    *, conn: psycopg.Connection, email: str, now: datetime, ttl: timedelta
) -> tuple[str, str] | None:
    """A link token for the enabled user with ``email`` and their stored address, or None when
    there is no such user (the caller answers the same either way)."""
    row = a_dict(
        conn,
        "SELECT user_id, email FROM users WHERE lower(email) = lower(%s) AND NOT disabled",
        (email,),
    )
    if row is None:
        return None
    token = new_token()
    conn.execute(
        "INSERT INTO web_signin_links (user_id, token_hash, created_at, expires_at) "
        "VALUES (%s, %s, %s, %s)",
        (row["user_id"], token_hash(token), now, now + ttl),
    )
    return token, str(row["email"])


def redeem(*, conn: psycopg.Connection, token: str, now: datetime) -> int | None:
    """Use the link once: the user id when it is unused, unexpired and its user enabled."""
    user_id = scalar(
        conn,
        "UPDATE web_signin_links l SET used_at = %(now)s FROM users u "
        "WHERE l.token_hash = %(hash)s AND l.used_at IS NULL AND l.expires_at > %(now)s "
        "AND u.user_id = l.user_id AND NOT u.disabled RETURNING l.user_id",
        {"now": now, "hash": token_hash(token)},
    )
    return None if user_id is None else int(user_id)


def prune(*, conn: psycopg.Connection, now: datetime, limit: int) -> int:
    """Delete up to ``limit`` links used or expired before ``now - PRUNE_GRACE``; how many
    (bounded and never waiting, as ``sessions.prune``)."""
    return conn.execute(
        "DELETE FROM web_signin_links WHERE ctid = ANY(ARRAY("
        "SELECT ctid FROM web_signin_links WHERE expires_at < %(before)s OR used_at < %(before)s "
        "LIMIT %(limit)s FOR UPDATE SKIP LOCKED))",
        {"before": now - PRUNE_GRACE, "limit": limit},
    ).rowcount
