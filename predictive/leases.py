# SPDX-License-Identifier: MIT
"""Shard leases, so several evaluators can run side by side.

Vehicles are split into the shards of ``evaluator_shards`` (64 rows from migration 0003); a
vehicle belongs to shard ``vehicle_id % shards``, the same expression in SQL and Python. An
evaluator evaluates only vehicles of shards it holds. Every ``heartbeat``:

1. it renews its row in ``evaluators`` (who is alive) and the shards it holds;
2. its fair share is ``ceil(shards / live evaluators)`` (and at most ``max_shards``); it
   releases the shards above that share (the highest-numbered first) ...
3. ... and claims free or expired shards up to it with one atomic
   ``UPDATE … WHERE expires_at <= now … FOR UPDATE SKIP LOCKED … RETURNING``.

So a second evaluator gets half of the shards within two heartbeats, and a crashed one's
shards expire after the lease time and are taken over by the others. ``release`` gives all
back at once when an evaluator stops. Times come from the database's clock (``now()``)
unless a test passes ``now``.

Holding a lease is an optimisation, not what keeps the totals right: ``evaluate_vehicle``
locks the vehicle's row, and with ``lease_owner`` it evaluates only if this owner still
holds the vehicle's shard (an evaluator that stalled past its lease yields to the new owner).
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from datetime import datetime

import psycopg

from db.rows import a_dict, dicts, scalar, scalars

# How long a lease lasts without renewal; evaluators renew every third of it.
LEASE_TTL_S = 30.0
# An evaluator gone for this long is forgotten (its row in ``evaluators`` deleted).
FORGET_AFTER_S = 3600.0


def default_owner() -> str:
    """A name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def shard_of(vehicle_id: int, shards: int) -> int:
    """The shard a vehicle belongs to (SQL: ``vehicle_id % shards``)."""
    return vehicle_id % shards


def shard_count(conn: psycopg.Connection) -> int:
    """How many shards there are."""
    return int(scalar(conn, "SELECT count(*) FROM evaluator_shards"))


def _at(conn: psycopg.Connection, now: datetime | None) -> datetime:
    if now is not None:
        return now
    at: datetime = scalar(conn, "SELECT now()")
    return at


def heartbeat(
    conn: psycopg.Connection,
    owner: str,
    *,
    ttl_s: float = LEASE_TTL_S,
    max_shards: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Renew, rebalance and claim (see the module docstring); return the shards now held."""
    with conn.transaction():
        at = _at(conn, now)
        conn.execute(
            "INSERT INTO evaluators (owner, started_at, heartbeat, expires_at) "
            "VALUES (%(o)s, %(at)s, %(at)s, %(at)s + make_interval(secs => %(ttl)s)) "
            "ON CONFLICT (owner) DO UPDATE SET heartbeat = EXCLUDED.heartbeat, "
            "expires_at = EXCLUDED.expires_at",
            {"o": owner, "at": at, "ttl": ttl_s},
        )
        conn.execute(
            "DELETE FROM evaluators WHERE expires_at < %s - make_interval(secs => %s)",
            (at, FORGET_AFTER_S),
        )
        counts = a_dict(
            conn,
            "SELECT (SELECT count(*) FROM evaluators WHERE expires_at > %s) AS live, "
            "(SELECT count(*) FROM evaluator_shards) AS total",
            (at,),
        )
        assert counts is not None
        live, total = max(1, int(counts["live"])), int(counts["total"])
        fair = math.ceil(total / live)
        if max_shards is not None:
            fair = min(fair, max_shards)
        held = sorted(
            int(shard)
            for shard in scalars(
                conn,
                "UPDATE evaluator_shards SET expires_at = %(at)s + make_interval(secs => %(ttl)s), "
                "heartbeat = %(at)s WHERE owner = %(o)s RETURNING shard",
                {"o": owner, "at": at, "ttl": ttl_s},
            )
        )
        if len(held) > fair:
            extra = held[fair:]
            conn.execute(
                "UPDATE evaluator_shards SET owner = NULL, expires_at = '-infinity', "
                "heartbeat = NULL WHERE owner = %s AND shard = ANY(%s)",
                (owner, extra),
            )
            held = held[:fair]
        elif len(held) < fair:
            claimed = scalars(
                conn,
                "UPDATE evaluator_shards s SET owner = %(o)s, "
                "expires_at = %(at)s + make_interval(secs => %(ttl)s), heartbeat = %(at)s "
                "FROM (SELECT shard FROM evaluator_shards WHERE expires_at <= %(at)s "
                "      ORDER BY shard LIMIT %(n)s FOR UPDATE SKIP LOCKED) free "
                "WHERE s.shard = free.shard AND s.expires_at <= %(at)s RETURNING s.shard",
                {"o": owner, "at": at, "ttl": ttl_s, "n": fair - len(held)},
            )
            held = sorted(held + [int(shard) for shard in claimed])
        return held


def release(conn: psycopg.Connection, owner: str) -> int:
    """Give back every shard ``owner`` holds and leave; returns how many were held."""
    with conn.transaction():
        cur = conn.execute(
            "UPDATE evaluator_shards SET owner = NULL, expires_at = '-infinity', heartbeat = NULL "
            "WHERE owner = %s",
            (owner,),
        )
        conn.execute("DELETE FROM evaluators WHERE owner = %s", (owner,))
        return cur.rowcount


def holders(conn: psycopg.Connection) -> dict[int, str | None]:
    """Shard → owner of an unexpired lease (None when free or expired)."""
    leases = dicts(
        conn,
        "SELECT shard, CASE WHEN expires_at > now() THEN owner END AS owner "
        "FROM evaluator_shards ORDER BY shard",
    )
    return {int(lease["shard"]): lease["owner"] for lease in leases}
