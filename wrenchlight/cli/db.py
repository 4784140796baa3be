# SPDX-License-Identifier: MIT
"""``wrenchlight db``: schema migrations and the readings' retention policy."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from wrenchlight.cli.common import err, require_db, settings_of

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command("migrate")
def db_migrate(ctx: typer.Context, revision: str = "head") -> None:
    """Apply schema migrations up to REVISION (default: the newest)."""
    import db

    url = require_db(settings_of(ctx))
    db.upgrade(url, revision)
    typer.echo(f"database at revision {db.current_revision(url)}")


@app.command("policy")
def db_policy(
    ctx: typer.Context,
    retention_days: Annotated[
        float | None, typer.Option(min=1, help="Keep readings this many days.")
    ] = None,
    compress_after_days: Annotated[
        float | None,
        typer.Option(min=0.05, help="TimescaleDB: compress chunks older than this."),
    ] = None,
    chunk_hours: Annotated[
        float | None, typer.Option(min=1, help="TimescaleDB: time span of new chunks.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the readings retention and compression policy, or change it with the options."""
    import dataclasses
    import datetime as dt

    import db
    from db.policies import apply_policy, current_policy

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        policy = current_policy(conn)
        done: list[str] = []
        changes = {
            "retention": retention_days and dt.timedelta(days=retention_days),
            "compress_after": compress_after_days and dt.timedelta(days=compress_after_days),
            "chunk_interval": chunk_hours and dt.timedelta(hours=chunk_hours),
        }
        if any(changes.values()):
            try:
                policy = dataclasses.replace(policy, **{k: v for k, v in changes.items() if v})
            except ValueError as exc:
                err.print(f"[red]invalid policy:[/] {exc}")
                raise typer.Exit(2) from exc
            done = apply_policy(conn, policy)
        timescale = db.has_timescaledb(conn)
    figures = {
        "retention_days": policy.retention / dt.timedelta(days=1),
        "compress_after_days": policy.compress_after / dt.timedelta(days=1),
        "chunk_hours": policy.chunk_interval / dt.timedelta(hours=1),
        "timescaledb": timescale,
        "applied": done,
    }
    if as_json:
        typer.echo(json.dumps(figures))
        return
    for line in done:
        typer.echo(line)
    typer.echo(
        f"readings kept {figures['retention_days']:g} days"
        + (
            f", compressed after {figures['compress_after_days']:g} days, "
            f"chunks of {figures['chunk_hours']:g} h (TimescaleDB)"
            if timescale
            else " (plain PostgreSQL: monthly partitions, no compression)"
        )
    )


@app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the schema revision the database is at."""
    import db

    typer.echo(db.current_revision(require_db(settings_of(ctx))) or "(not migrated)")
