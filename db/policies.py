# SPDX-License-Identifier: MIT
"""How long readings are kept and when they are compressed: one row in ``readings_policy``.

On TimescaleDB, applying a policy replaces its background jobs (compression, retention) and
sets the chunk interval of new chunks. On plain PostgreSQL, ingest's upkeep reads the row and
drops partitions past retention itself (``wl_drop_partitions``); compression does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import psycopg

from db.rows import record
from db.timescale import has_timescaledb


@dataclass(frozen=True)
class ReadingsPolicy:
    """Retention, compression age and chunk size of the readings."""

    retention: timedelta = timedelta(days=400)
    compress_after: timedelta = timedelta(days=7)
    chunk_interval: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if self.retention < timedelta(days=1):
            raise ValueError("retention must be at least one day")
        if self.compress_after < timedelta(hours=1):
            raise ValueError("compress_after must be at least one hour")
        if self.chunk_interval < timedelta(hours=1):
            raise ValueError("chunk_interval must be at least one hour")
        if self.compress_after >= self.retention:
            raise ValueError("compress_after must be shorter than retention")


def current_policy(conn: psycopg.Connection) -> ReadingsPolicy:
    """The policy in force."""
    policy = record(
        conn,
        ReadingsPolicy,
        "SELECT retention, compress_after, chunk_interval FROM readings_policy",
    )
    return ReadingsPolicy() if policy is None else policy


def apply_policy(conn: psycopg.Connection, policy: ReadingsPolicy) -> list[str]:
    """Store the policy and, on TimescaleDB, replace its jobs; returns what was done."""
    done = []
    with conn.transaction():
        conn.execute(
            "UPDATE readings_policy SET retention = %s, compress_after = %s, "
            "chunk_interval = %s, updated_at = now()",
            (policy.retention, policy.compress_after, policy.chunk_interval),
        )
        done.append("stored the policy in readings_policy")
        if has_timescaledb(conn):
            for sql in (
                "SELECT set_chunk_time_interval('readings', %(chunk)s::interval)",
                "SELECT remove_compression_policy('readings', if_exists => true)",
                "SELECT add_compression_policy('readings', "
                "compress_after => %(compress)s::interval)",
                "SELECT remove_retention_policy('readings', if_exists => true)",
                "SELECT add_retention_policy('readings', drop_after => %(retain)s::interval)",
            ):
                conn.execute(
                    sql,
                    {
                        "chunk": policy.chunk_interval,
                        "compress": policy.compress_after,
                        "retain": policy.retention,
                    },
                )
            done.append("replaced TimescaleDB's compression and retention jobs")
        else:
            done.append("plain PostgreSQL: ingest drops partitions past retention")
    return done
