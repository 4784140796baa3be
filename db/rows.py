# SPDX-License-Identifier: MIT
"""Rows read by name: the few shapes every cloud part reads results in.

A row is never read by position (``row[0]``, ``a, b = row``): a reordered or added column
would then be read as another silently. Read rows into a dataclass with ``records``/``record``
(psycopg's ``class_row``: a column the class does not name, or a field the query does not
return, fails at once), into a dict with ``dicts``/``a_dict`` where the shape is ad hoc, or
one value with ``scalar``/``scalars``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.abc import QueryNoTemplate as Query
from psycopg.rows import class_row, dict_row, scalar_row

T = TypeVar("T")

Params = Sequence[Any] | Mapping[str, Any] | None


def records(
    conn: psycopg.Connection[Any], cls: type[T], query: Query, params: Params = None
) -> list[T]:
    """Every row of ``query`` as a ``cls`` (a dataclass whose fields are the columns)."""
    with conn.cursor(row_factory=class_row(cls)) as cur:
        return cur.execute(query, params).fetchall()


def record(
    conn: psycopg.Connection[Any], cls: type[T], query: Query, params: Params = None
) -> T | None:
    """The first row of ``query`` as a ``cls``, or None when there is none."""
    with conn.cursor(row_factory=class_row(cls)) as cur:
        return cur.execute(query, params).fetchone()


def dicts(
    conn: psycopg.Connection[Any], query: Query, params: Params = None
) -> list[dict[str, Any]]:
    """Every row of ``query`` as a dict keyed by column name."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def a_dict(
    conn: psycopg.Connection[Any], query: Query, params: Params = None
) -> dict[str, Any] | None:
    """The first row of ``query`` as a dict keyed by column name, or None."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()


def scalar(conn: psycopg.Connection[Any], query: Query, params: Params = None) -> Any:
    """The first column of the first row of ``query``; None when there is no row."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute(query, params).fetchone()


def scalars(conn: psycopg.Connection[Any], query: Query, params: Params = None) -> list[Any]:
    """The first column of every row of ``query``."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute(query, params).fetchall()
