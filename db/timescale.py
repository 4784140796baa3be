# SPDX-License-Identifier: MIT
"""The one check that chooses between the TimescaleDB and the plain PostgreSQL code paths."""

from __future__ import annotations

import psycopg

# The migrations and the running services both ask this same question.
CHECK_SQL = "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"
# Installing the extension needs it in shared_preload_libraries; where it is merely available
# but not loadable, the migration falls back to plain PostgreSQL instead of failing.
AVAILABLE_SQL = "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"


def has_timescaledb(conn: psycopg.Connection) -> bool:
    """True when the timescaledb extension is installed in the connected database."""
    return conn.execute(CHECK_SQL).fetchone() is not None
