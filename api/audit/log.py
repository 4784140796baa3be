# SPDX-License-Identifier: MIT
"""Reading the audit log: newest first, a page after a row id, filtered by who, what and how
it ended. ``GET /audit-log`` and the admin's console (``web.admin``) read it through here.

``Note`` is what a page adds to the row of a write it handled (``request.state.audit``): the
object it acted on when its path does not name it, and a line saying what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from db.rows import records

DETAIL_MAX = 1000  # characters kept of a note's detail (revision 0023's check)


@dataclass(frozen=True)
class Note:
    """What a write did, in the words of the code that did it."""

    object_type: str
    object_id: str
    detail: str


@dataclass(frozen=True)
class Entry:
    """One row of the audit log, with the email of the user who acted (if any)."""

    id: int
    at: datetime
    user_id: int | None
    email: str | None
    key_id: int | None
    method: str
    route: str
    path: str
    status: int
    object_type: str | None
    object_id: str | None
    detail: str | None


@dataclass(frozen=True)
class Filters:
    """Which rows: by who acted (email, part of it), the object's type, a part of the path or
    detail, and whether the write was refused (status 400 and up) or done."""

    who: str | None = None
    object_type: str | None = None
    text: str | None = None
    refused: bool | None = None


def _like(text: str | None) -> str | None:
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def read_page(
    *, conn: psycopg.Connection, limit: int, after: int | None, filters: Filters | None = None
) -> list[Entry]:
    """Up to ``limit + 1`` rows older than row ``after`` (None: the newest), newest first."""
    f = filters or Filters()
    return records(
        conn,
        Entry,
        "SELECT a.id, a.at, a.user_id, u.email, a.key_id, a.method, a.route, a.path, a.status, "
        "a.object_type, a.object_id, a.detail FROM audit_log a "
        "LEFT JOIN users u ON u.user_id = a.user_id "
        "WHERE (%(after)s::bigint IS NULL OR a.id < %(after)s) "
        "AND (%(who)s::text IS NULL OR u.email ILIKE %(who)s) "
        "AND (%(type)s::text IS NULL OR a.object_type = %(type)s) "
        "AND (%(text)s::text IS NULL OR a.path ILIKE %(text)s OR a.detail ILIKE %(text)s) "
        "AND (%(refused)s::boolean IS NULL OR (a.status >= 400) = %(refused)s) "
        "ORDER BY a.id DESC LIMIT %(limit)s",
        {
            "after": after,
            "who": _like(f.who),
            "type": f.object_type or None,
            "text": _like(f.text),
            "refused": f.refused,
            "limit": limit + 1,
        },
    )
