# SPDX-License-Identifier: MIT
"""``wrenchlight orders``: create orders from open alerts, match and time them, and show them.

``list`` and ``show`` read through the API's own services as an admin sees them, so the command
line and the API can never disagree.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console

from wrenchlight.cli.common import err, require_db, settings_of
from wrenchlight.cli.records import (
    PAGE,
    JsonOpt,
    admin_principal,
    orders_table,
    table,
    vehicle_id_of,
    when,
)

app = typer.Typer(help="Service orders and the shop directory.", no_args_is_help=True)


@app.command("dispatch")
def orders_dispatch(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a pre-filled service order for every open alert that has none."""
    import db
    from orders.service import order_open_alerts

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        created = order_open_alerts(conn=conn, now=dt.datetime.now(dt.UTC))
    typer.echo(json.dumps({"created": created}) if as_json else f"created {len(created)} orders")


@app.command("seed-shops")
def orders_seed_shops(
    ctx: typer.Context,
    lat: Annotated[float, typer.Option(help="Centre latitude.")] = 41.8781,
    lon: Annotated[float, typer.Option(help="Centre longitude.")] = -87.6298,
    count: Annotated[int, typer.Option(min=1, max=1000)] = 12,
) -> None:
    """Seed a directory of repair shops around a centre point."""
    import db
    from orders.shops import seed_shops

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        ids = seed_shops(conn=conn, center_lat=lat, center_lon=lon, count=count)
    typer.echo(f"{len(ids)} shops")


@app.command("list")
def orders_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="Only orders in this status (e.g. proposed, scheduled).")
    ] = None,
    vehicle: Annotated[str | None, typer.Option(help="Only this vehicle (VIN or id).")] = None,
    shop: Annotated[int | None, typer.Option(help="Only orders assigned to this shop id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=PAGE, help="At most this many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Service orders, newest first: VIN, issue, status, shop and when the job is due."""
    import db
    from api.orders.service import list_page

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        vehicle_id = None if vehicle is None else vehicle_id_of(conn, vehicle)
        page = list_page(
            conn=conn,
            principal=admin_principal(),
            status=status,
            vehicle_id=vehicle_id,
            shop_id=shop,
            limit=limit,
            cursor=None,
        )
    if as_json:
        typer.echo(json.dumps([o.model_dump(mode="json") for o in page.items]))
        return
    Console().print(orders_table(page.items) if page.items else "no orders")


@app.command("show")
def orders_show(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(help="The order's id.")],
    as_json: JsonOpt = False,
) -> None:
    """One order: the vehicle, the issue and job, the shop, the estimate and its timeline."""
    import db
    from api.orders.service import detail
    from orders.errors import OrderNotFound

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        try:
            order = detail(conn=conn, order_id=order_id, principal=admin_principal())
        except OrderNotFound:
            err.print(f"no order {order_id} (`wrenchlight orders list` shows them)")
            raise typer.Exit(1) from None
    if as_json:
        typer.echo(order.model_dump_json())
        return
    out = Console()
    out.print(f"[bold]order {order.order_id}[/] {order.status}: {order.issue}")
    out.print(f"vehicle {order.vin} (id {order.vehicle_id}), job {order.job.description}")
    if order.shop:
        out.print(f"shop {order.shop.name} (id {order.shop.shop_id})")
    if order.estimate:
        total = order.estimate.get("total")
        out.print(f"estimate {total} {order.estimate.get('currency', '')}".rstrip())
    timeline = table("at", "event", "status", "by", "note")
    for e in order.events:
        timeline.add_row(when(e.at), e.kind, e.status, e.actor, e.note or "")
    out.print(timeline if order.events else "no events yet")


@app.command("propose")
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
    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
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


@app.command("timers")
def orders_timers(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Act on every service-level deadline passed: expire and cascade offers, escalate."""
    import db
    from orders.policy import PlacementPolicy
    from orders.sla import check_timers

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        breaches = check_timers(conn=conn, now=dt.datetime.now(dt.UTC), policy=PlacementPolicy())
    rows = [
        {"order_id": b.order_id, "timer": b.timer, "due_at": b.due_at.isoformat()} for b in breaches
    ]
    typer.echo(json.dumps({"breaches": rows}) if as_json else f"{len(rows)} deadlines breached")
