# SPDX-License-Identifier: MIT
"""The links in a notification mail: one tap to open the order or the car (signing the person
in), and one click to unsubscribe.

Both are random tokens whose SHA-256 the database keeps (``notify_links``), like sign-in
links: a link can be spent, and the database says whether it was. An *open* link performs an
action (it starts a session), so it works once and expires after ``OPEN_TTL``. An
*unsubscribe* link only turns a kind off for a channel, which doing twice changes nothing: it
keeps working until ``UNSUBSCRIBE_TTL`` (mail is read late), and records when it was first
used.

These tokens go only into mail to the account's own address. Messages to Apprise channels carry
plain links to the app: a chat or a public ntfy topic is not a private mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from db.rows import a_dict
from web.tokens import new_token, token_hash

OPEN_TTL = timedelta(days=3)
UNSUBSCRIBE_TTL = timedelta(days=90)


@dataclass(frozen=True)
class Unsubscribed:
    """What an unsubscribe link turned off."""

    user_id: int
    channel_id: int
    event_kind: str


def issue_open(
    conn: psycopg.Connection, *, user_id: int, target: str, now: datetime, ttl: timedelta = OPEN_TTL
) -> str:
    """A one-time link token that signs ``user_id`` in and opens ``target`` (a path of the app)."""
    token = new_token()
    conn.execute(
        "INSERT INTO notify_links (token_hash, purpose, user_id, target, created_at, expires_at) "
        "VALUES (%s, 'open', %s, %s, %s, %s)",
        (token_hash(token), user_id, target, now, now + ttl),
    )
    return token


def redeem_open(conn: psycopg.Connection, *, token: str, now: datetime) -> tuple[int, str] | None:
    """Spend an open link: its user and target when it is unused, unexpired and the user
    enabled; None otherwise."""
    row = a_dict(
        conn,
        "UPDATE notify_links l SET used_at = %(now)s FROM users u "
        "WHERE l.token_hash = %(hash)s AND l.purpose = 'open' AND l.used_at IS NULL "
        "AND l.expires_at > %(now)s AND u.user_id = l.user_id AND NOT u.disabled "
        "RETURNING l.user_id, l.target",
        {"now": now, "hash": token_hash(token)},
    )
    return None if row is None else (int(row["user_id"]), str(row["target"]))


def issue_unsubscribe(
    conn: psycopg.Connection,
    *,
    user_id: int,
    channel_id: int,
    event_kind: str,
    now: datetime,
    ttl: timedelta = UNSUBSCRIBE_TTL,
) -> str:
    """A link token that turns ``event_kind`` off for ``channel_id``."""
    token = new_token()
    conn.execute(
        "INSERT INTO notify_links (token_hash, purpose, user_id, channel_id, event_kind, "
        "created_at, expires_at) VALUES (%s, 'unsubscribe', %s, %s, %s, %s, %s)",
        (token_hash(token), user_id, channel_id, event_kind, now, now + ttl),
    )
    return token


def unsubscribe(conn: psycopg.Connection, *, token: str, now: datetime) -> Unsubscribed | None:
    """Use an unsubscribe link: mute its kind on its channel; what was muted, or None when the
    link is unknown or expired (or its channel was removed)."""
    with conn.transaction():
        row = a_dict(
            conn,
            "UPDATE notify_links SET used_at = coalesce(used_at, %(now)s) "
            "WHERE token_hash = %(hash)s AND purpose = 'unsubscribe' AND expires_at > %(now)s "
            "AND channel_id IS NOT NULL RETURNING user_id, channel_id, event_kind",
            {"now": now, "hash": token_hash(token)},
        )
        if row is None:
            return None
        conn.execute(
            "INSERT INTO notify_muted (channel_id, event_kind, muted_at) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (row["channel_id"], row["event_kind"], now),
        )
    return Unsubscribed(int(row["user_id"]), int(row["channel_id"]), str(row["event_kind"]))


def peek_unsubscribe(conn: psycopg.Connection, *, token: str, now: datetime) -> str | None:
    """The event kind an unsubscribe link would turn off, without using it (its page)."""
    row = a_dict(
        conn,
        "SELECT event_kind FROM notify_links WHERE token_hash = %s AND purpose = 'unsubscribe' "
        "AND expires_at > %s AND channel_id IS NOT NULL",
        (token_hash(token), now),
    )
    return None if row is None else str(row["event_kind"])
