# SPDX-License-Identifier: MIT
"""A user's channels (their email, Apprise URLs), which event kinds each one carries, and their
quiet hours: the rows Settings edits and the dispatcher reads.

Every kind goes to every channel unless muted (``notify_muted``), so a new event kind reaches
people without a migration of their choices, and an unsubscribe link is one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

import psycopg

from api.webhooks.network import WebhookConfig
from db.rows import a_dict, dicts, scalar
from web.notify import guard
from web.notify.events import KINDS
from web.notify.quiet import QuietHours, valid_zone

MAX_APPRISE_CHANNELS = 10
MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class Channel:
    """One way to reach a user, and the kinds it carries."""

    channel_id: int
    kind: str  # email or apprise
    url: str | None
    label: str | None
    muted: frozenset[str]

    def carries(self, event_kind: str) -> bool:
        """Whether messages of ``event_kind`` go to this channel."""
        return event_kind not in self.muted

    @property
    def shown(self) -> str:
        """What Settings shows of it: the label, else the URL without its secrets."""
        if self.label:
            return self.label
        if self.url is None:
            return "email"
        scheme, _, rest = self.url.partition("://")
        host = rest.split("@")[-1].split("/")[0].split("?")[0]
        return f"{scheme}://{host}/…"


class ChannelError(ValueError):
    """A setting that cannot be stored: ``code`` says why, for the page to put in the user's
    words; the message says it in English (logs, the command line)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def email_channel(conn: psycopg.Connection, user_id: int) -> int:
    """The id of the user's email channel, made on first use."""
    conn.execute(
        "INSERT INTO notify_channels (user_id, kind) VALUES (%s, 'email') "
        "ON CONFLICT (user_id) WHERE kind = 'email' DO NOTHING",
        (user_id,),
    )
    found = scalar(
        conn,
        "SELECT channel_id FROM notify_channels WHERE user_id = %s AND kind = 'email'",
        (user_id,),
    )
    assert found is not None  # just made
    return int(found)


def of_user(conn: psycopg.Connection, user_id: int) -> list[Channel]:
    """The user's channels, email first, each with its muted kinds."""
    email_channel(conn, user_id)
    rows = dicts(
        conn,
        "SELECT c.channel_id, c.kind, c.url, c.label, "
        "coalesce(array_agg(m.event_kind) FILTER (WHERE m.event_kind IS NOT NULL), '{}') AS muted "
        "FROM notify_channels c LEFT JOIN notify_muted m USING (channel_id) "
        "WHERE c.user_id = %s GROUP BY c.channel_id ORDER BY c.kind = 'apprise', c.channel_id",
        (user_id,),
    )
    return [
        Channel(r["channel_id"], r["kind"], r["url"], r["label"], frozenset(r["muted"]))
        for r in rows
    ]


def add_apprise(
    conn: psycopg.Connection, *, user_id: int, url: str, label: str | None, config: WebhookConfig
) -> int:
    """Add an Apprise URL for the user after the public-address check; its channel id.
    ChannelError (with the reason) when it is refused."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise ChannelError("url", "The URL is empty or too long.")
    try:
        guard.check(url, config)
    except guard.RefusedChannel as exc:
        raise ChannelError(exc.code, str(exc)) from exc
    count = scalar(
        conn,
        "SELECT count(*) FROM notify_channels WHERE user_id = %s AND kind = 'apprise'",
        (user_id,),
    )
    if int(count or 0) >= MAX_APPRISE_CHANNELS:
        raise ChannelError("too_many", f"At most {MAX_APPRISE_CHANNELS} channels besides email.")
    channel_id = scalar(
        conn,
        "INSERT INTO notify_channels (user_id, kind, url, label) VALUES (%s, 'apprise', %s, %s) "
        "ON CONFLICT (user_id, url) WHERE url IS NOT NULL DO NOTHING RETURNING channel_id",
        (user_id, url, (label or "").strip()[:80] or None),
    )
    if channel_id is None:
        raise ChannelError("duplicate", "This URL is one of your channels already.")
    return int(channel_id)


def remove(conn: psycopg.Connection, *, user_id: int, channel_id: int) -> bool:
    """Remove one of the user's Apprise channels (the email channel stays; mute it instead)."""
    return (
        conn.execute(
            "DELETE FROM notify_channels WHERE channel_id = %s AND user_id = %s "
            "AND kind = 'apprise'",
            (channel_id, user_id),
        ).rowcount
        > 0
    )


def find(conn: psycopg.Connection, *, user_id: int, channel_id: int) -> Channel | None:
    """One of the user's channels."""
    return next((c for c in of_user(conn, user_id) if c.channel_id == channel_id), None)


def set_routes(
    conn: psycopg.Connection,
    *,
    user_id: int,
    enabled: set[tuple[int, str]],
    kinds: Iterable[str] = KINDS,
) -> None:
    """Make exactly the (channel, kind) pairs in ``enabled`` carry messages for the user, of
    ``kinds`` (those Settings showed them); other kinds stay as they were."""
    with conn.transaction():
        for channel in of_user(conn, user_id):
            for kind in kinds:
                set_muted(conn, channel.channel_id, kind, (channel.channel_id, kind) not in enabled)


def set_muted(conn: psycopg.Connection, channel_id: int, event_kind: str, muted: bool) -> None:
    """Turn one kind off (or back on) for one channel."""
    if muted:
        conn.execute(
            "INSERT INTO notify_muted (channel_id, event_kind) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING",
            (channel_id, event_kind),
        )
    else:
        conn.execute(
            "DELETE FROM notify_muted WHERE channel_id = %s AND event_kind = %s",
            (channel_id, event_kind),
        )


def quiet_hours(conn: psycopg.Connection, user_id: int) -> QuietHours:
    """The user's time zone and quiet window (defaults: UTC, none)."""
    row = a_dict(
        conn,
        "SELECT time_zone, quiet_from, quiet_until FROM notify_preferences WHERE user_id = %s",
        (user_id,),
    )
    if row is None:
        return QuietHours()
    return QuietHours(row["time_zone"], row["quiet_from"], row["quiet_until"])


def set_quiet_hours(
    conn: psycopg.Connection,
    *,
    user_id: int,
    time_zone: str,
    start: time | None,
    end: time | None,
) -> None:
    """Store the user's time zone and quiet window (both times, or neither)."""
    if not valid_zone(time_zone):
        raise ChannelError("zone", "Unknown time zone; use a name such as Europe/Berlin.")
    if (start is None) != (end is None):
        raise ChannelError("quiet", "Give both the start and the end of quiet hours, or neither.")
    conn.execute(
        "INSERT INTO notify_preferences (user_id, time_zone, quiet_from, quiet_until) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (user_id) DO UPDATE SET "
        "time_zone = EXCLUDED.time_zone, quiet_from = EXCLUDED.quiet_from, "
        "quiet_until = EXCLUDED.quiet_until",
        (user_id, time_zone, start, end),
    )
