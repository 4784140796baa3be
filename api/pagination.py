# SPDX-License-Identifier: MIT
"""Cursor pagination shared by every list endpoint: opaque cursors over a keyset (an id).

A cursor is base64 of ``{"after_id": n}``: clients pass back ``next_cursor`` and never build
one, so the keyset can change without breaking them. Pages have a maximum size (MAX_PAGE).
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
CursorQuery = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first")
]


def encode_cursor(after_id: int) -> str:
    """An opaque cursor continuing after this id."""
    raw = json.dumps({"after_id": after_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor continues after; ProblemError 400 if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after_id = json.loads(raw)["after_id"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _invalid() from exc
    if not isinstance(after_id, int) or isinstance(after_id, bool):
        raise _invalid()
    return after_id


def _invalid() -> ProblemError:
    return ProblemError(
        400, "invalid-cursor", "Invalid cursor", "The cursor was not produced by this API."
    )
