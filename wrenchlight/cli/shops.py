# SPDX-License-Identifier: MIT
"""``wrenchlight shops``: import a directory, make a demo one, open slots."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from wrenchlight.cli.common import err, require_db, settings_of

app = typer.Typer(help="The repair-shop directory.", no_args_is_help=True)


@app.command("import")
def shops_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or JSON file.")],
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the valid rows and report the others.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate every row of FILE, then import the shops (upsert on `ref`); exit 1 on errors."""
    import db
    from orders.directory import ImportFailed, import_file

    try:
        with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
            result = import_file(conn=conn, path=file, skip_invalid=skip_invalid)
    except ImportFailed as exc:
        if as_json:
            typer.echo(json.dumps({"errors": [dataclasses.asdict(e) for e in exc.errors]}))
        for e in exc.errors:
            err.print(f"[red]{e}[/]")
        err.print(f"nothing imported: {len(exc.errors)} error(s) in {file}")
        raise typer.Exit(1) from exc
    summary = {
        "inserted": result.inserted,
        "updated": result.updated,
        "skipped": [dataclasses.asdict(e) for e in result.skipped],
    }
    for e in result.skipped:
        err.print(f"[yellow]skipped {e}[/]")
    typer.echo(
        json.dumps(summary)
        if as_json
        else f"{result.inserted} shops added, {result.updated} updated"
    )


@app.command("demo")
def shops_demo(
    ctx: typer.Context,
    count: Annotated[int, typer.Option(min=1, max=1_000_000, help="Shops to make.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    country: Annotated[
        list[str] | None, typer.Option(help="Only cities of this country (ISO code); repeatable.")
    ] = None,
    slot_days: Annotated[
        int, typer.Option(min=0, max=60, help="Open booking slots for this many days.")
    ] = 14,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Add a demo directory of shops around real cities (deterministic in --seed)."""
    import db
    from orders.cities import demo_directory
    from orders.directory import upsert_shops
    from orders.slots import open_slots

    try:
        records = demo_directory(count=count, seed=seed, countries=country or ())
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        result = upsert_shops(conn=conn, records=records)
        slots = open_slots(conn=conn, start=dt.datetime.now(dt.UTC), days=slot_days)
    summary = {"inserted": result.inserted, "updated": result.updated, "slots": slots}
    typer.echo(
        json.dumps(summary)
        if as_json
        else f"{result.inserted} shops added, {result.updated} updated, {slots} slots opened"
    )
