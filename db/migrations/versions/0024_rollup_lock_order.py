# SPDX-License-Identifier: MIT
"""Rollup refreshes lock their buckets in one order, so two never deadlock.

On plain PostgreSQL every ingest worker refreshes queued (vehicle, hour) pairs
(``wl_refresh_rollup_queue``). A pair queued by two flushes can be taken by two workers at once
(each takes different queue rows), and both then upsert the same ``readings_1m`` and
``readings_1h`` buckets. The aggregate fed them to the upsert in hash order, so two refreshers
could each hold a bucket the other needed next: "deadlock detected", seen with two workers.
Sorting the rows by (vehicle, bucket) before the upsert makes every refresher take the locks
in the same order; a second one then waits for the first instead. Nothing else changes: the
function is revision 0004's, with the two inserts ordered. TimescaleDB keeps its rollups as
continuous aggregates and has no such function; this revision does nothing there.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

from alembic import op

from db.timescale import CHECK_SQL

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# Where revision 0004's inserts end their aggregation, and the ordered form.
UNORDERED = "    GROUP BY 1, 2\n    ON CONFLICT"
ORDERED = "    GROUP BY 1, 2\n    ORDER BY 2, 1\n    ON CONFLICT"


def _definition() -> str:
    """``wl_refresh_rollup_queue`` as the database has it now."""
    found = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT pg_get_functiondef(p.oid) FROM pg_proc p "
            "WHERE p.proname = 'wl_refresh_rollup_queue' AND pg_function_is_visible(p.oid)"
        )
        .scalar()
    )
    if found is None:
        raise RuntimeError("wl_refresh_rollup_queue is missing: revision 0004 made it")
    return str(found)


def _plain() -> bool:
    return op.get_bind().exec_driver_sql(CHECK_SQL).first() is None


def _replace(old: str, new: str) -> None:
    definition = _definition()
    if definition.count(old) != 2:
        raise RuntimeError(
            "wl_refresh_rollup_queue is not revision 0004's (two upserts expected); "
            "refusing to rewrite it"
        )
    op.execute(definition.replace(old, new))


def upgrade() -> None:
    if _plain():
        _replace(UNORDERED, ORDERED)


def downgrade() -> None:
    if _plain():
        _replace(ORDERED, UNORDERED)
