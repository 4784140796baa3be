# SPDX-License-Identifier: MIT
"""Connection pools, schema migrations and the SQL every cloud part shares."""

from db.connect import DatabaseError, connect, make_pool
from db.migrate import current_revision, downgrade, upgrade
from db.timescale import has_timescaledb

__all__ = [
    "DatabaseError",
    "connect",
    "current_revision",
    "downgrade",
    "has_timescaledb",
    "make_pool",
    "upgrade",
]
