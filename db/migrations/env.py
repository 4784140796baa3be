# SPDX-License-Identifier: MIT
"""Alembic environment: online migrations only, one transaction per run."""

from alembic import context
from sqlalchemy import create_engine, pool

url = context.config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("alembic config lacks sqlalchemy.url; run migrations through db.upgrade()")
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
