# SPDX-License-Identifier: MIT
"""``wrenchlight shops`` (import a directory, make a demo one, open slots) and the dispatch
steps of ``wrenchlight orders`` (propose, timers)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from wrenchlight.cli import _require_db, _settings, app, err, orders_app

shops_app = typer.Typer(help="The repair-shop directory.", no_args_is_help=True)
app.add_typer(shops_app, name="shops")


@shops_app.command("import")
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
        with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
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


@shops_app.command("demo")
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
    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        result = upsert_shops(conn=conn, records=records)
        slots = open_slots(conn=conn, start=dt.datetime.now(dt.UTC), days=slot_days)
    summary = {"inserted": result.inserted, "updated": result.updated, "slots": slots}
    typer.echo(
        json.dumps(summary)
        if as_json
        else f"{result.inserted} shops added, {result.updated} updated, {slots} slots opened"
    )


@orders_app.command("propose")
def orders_propose(
    ctx: typer.Context,
    mode: Annotated[str, typer.Option(help="auto, sequential or broadcast.")] = "sequential",
    consent: Annotated[
        str, typer.Option(help="auto_book (dispatch at once) or propose (wait for the owner).")
    ] = "propose",
    k: Annotated[int, typer.Option(min=1, max=20, help="Shops per broadcast wave.")] = 3,
    response_min: Annotated[
        float, typer.Option(min=0.1, help="Minutes a shop has to answer an offer.")
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Match every proposed order not matched yet, and dispatch it when consent allows."""
    import db
    from orders.policy import PlacementPolicy
    from orders.service import propose_new_orders

    if mode not in ("auto", "sequential", "broadcast") or consent not in ("auto_book", "propose"):
        err.print("[red]--mode is auto|sequential|broadcast, --consent auto_book|propose[/]")
        raise typer.Exit(2)
    policy = PlacementPolicy(
        mode=mode,  # type: ignore[arg-type]  # checked above
        k=k,
        shop_response=dt.timedelta(minutes=response_min),
    )
    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        done = propose_new_orders(
            conn=conn,
            now=dt.datetime.now(dt.UTC),
            policy=policy,
            consent=consent,  # type: ignore[arg-type]  # checked above
        )
    typer.echo(
        json.dumps(done)
        if as_json
        else f"{len(done['matched'])} orders matched, {len(done['unmatched'])} without a shop"
    )


@orders_app.command("timers")
def orders_timers(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Act on every service-level deadline passed: expire and cascade offers, escalate."""
    import db
    from orders.policy import PlacementPolicy
    from orders.sla import check_timers

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        breaches = check_timers(conn=conn, now=dt.datetime.now(dt.UTC), policy=PlacementPolicy())
    rows = [
        {"order_id": b.order_id, "timer": b.timer, "due_at": b.due_at.isoformat()} for b in breaches
    ]
    typer.echo(json.dumps({"breaches": rows}) if as_json else f"{len(rows)} deadlines breached")
