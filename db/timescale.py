# SPDX-License-Identifier: MIT
"""The one check that chooses between the TimescaleDB and the plain PostgreSQL code paths."""

from __future__ import annotations

import logging

import psycopg
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# The migrations and the running services both ask this same question.
CHECK_SQL = "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"
# Installing the extension needs it in shared_preload_libraries; where it is merely available
# but not loadable, the migration falls back to plain PostgreSQL instead of failing.
AVAILABLE_SQL = "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
CREATE_SQL = "CREATE EXTENSION IF NOT EXISTS timescaledb"
HOW_TO_ENABLE = (
    "to use TimescaleDB, set shared_preload_libraries = 'timescaledb' in postgresql.conf, "
    "restart PostgreSQL and migrate a new database"
)


def has_timescaledb(conn: psycopg.Connection) -> bool:
    """True when the timescaledb extension is installed in the connected database."""
    return conn.execute(CHECK_SQL).fetchone() is not None


def _reason(exc: DBAPIError) -> str:
    """The server's one-line message (its hint names a config file of the server)."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def install_timescaledb(bind: Connection) -> bool:
    """Install TimescaleDB in the migration's transaction if it can be; False: plain PostgreSQL.

    Without ``shared_preload_libraries`` TimescaleDB refuses with a FATAL error that closes
    the connection, which no savepoint survives; so it is first tried on a connection of its
    own, rolled back, and only then in the migration's transaction.
    """
    if bind.exec_driver_sql(CHECK_SQL).first() is not None:
        return True
    if bind.exec_driver_sql(AVAILABLE_SQL).first() is None:
        return False
    try:
        with bind.engine.connect() as probe:
            probe.exec_driver_sql(CREATE_SQL)
            probe.rollback()
        with bind.begin_nested():
            bind.exec_driver_sql(CREATE_SQL)
    except DBAPIError as exc:
        log.warning(
            "TimescaleDB is available but cannot be installed (%s): using plain PostgreSQL; %s",
            _reason(exc),
            HOW_TO_ENABLE,
        )
        return False
    return True
