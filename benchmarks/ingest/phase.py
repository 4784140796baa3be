# SPDX-License-Identifier: MIT
"""What every timed phase shares: the same starting state, the progress callback, time limits."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from db import rows

# (what is running, done, total): the caller draws progress bars from it.
Progress = Callable[[str, float, float], None]
# A phase that makes no progress for this long has failed (a worker died, a broker dropped).
STALL_S = 60.0
START_TIMEOUT_S = 90.0


# Everything ingest writes (the tables that exist in this schema version are emptied).
INGEST_TABLES = (
    "readings",
    "batches",
    "vehicle_state",
    "dead_letters",
    "dtc_events",
    "vehicle_dtcs",
    "trips",
    "rollup_queue",
    "readings_1m",
    "readings_1h",
)


def reset(conn: psycopg.Connection) -> None:
    """Empty what ingest writes and checkpoint, so every competitor starts from the same state."""
    tables = rows.scalars(
        conn,
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
        "AND relkind IN ('r', 'p') AND relname = ANY(%s)",
        (list(INGEST_TABLES),),
    )
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
    checkpoint(conn)


def checkpoint(conn: psycopg.Connection) -> None:
    """``CHECKPOINT`` (where allowed), so no timed phase pays for an earlier one's dirty pages."""
    with contextlib.suppress(psycopg.Error):  # needs superuser or pg_checkpoint
        conn.execute("CHECKPOINT")


def scalar(conn: psycopg.Connection, query: str, params: Sequence[Any] = ()) -> int:
    """The one integer ``query`` selects (NULL counts as 0)."""
    return int(rows.scalar(conn, query, params) or 0)
