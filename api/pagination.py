# SPDX-License-Identifier: MIT
"""Opaque cursors for keyset pagination: a page continues after the last id it showed.

A cursor is base64url JSON ``{"after_id": n}``: opaque to clients, so its contents may change
without breaking them, and cheap for the database (``WHERE id < n ORDER BY id DESC``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from fastapi import Query

from api.problems import ProblemError

MAX_PAGE = 200

LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page")]
CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page")]


def encode_cursor(after_id: int) -> str:
    """An opaque cursor continuing after this id."""
    raw = json.dumps({"after_id": after_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor continues after (None for the first page); 400 if it is not ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after_id = json.loads(raw)["after_id"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _invalid() from exc
    if not isinstance(after_id, int) or isinstance(after_id, bool):
        raise _invalid()
    return after_id


def next_cursor(ids: list[int], limit: int) -> str | None:
    """The cursor after a page fetched with ``limit + 1`` rows, or None at the end."""
    return encode_cursor(ids[limit - 1]) if len(ids) > limit else None


def _invalid() -> ProblemError:
    return ProblemError(
        400, "invalid-cursor", "Invalid cursor", "The cursor was not produced by this API."
    )
