# SPDX-License-Identifier: MIT
"""``wrenchlight vehicles`` and ``wrenchlight orders list|show``: what the API shows, in a terminal.

Every figure comes from the API's own domain services (``api.vehicles``, ``api.orders``), read
as an admin sees it, so the CLI and the API can never disagree. Tables fit 80 columns.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from wrenchlight.cli import _require_db, _settings, app, err, orders_app

vehicles_app = typer.Typer(
    help="Vehicles: their health, open alerts and open orders.", no_args_is_help=True
)
app.add_typer(vehicles_app, name="vehicles")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (one document) for scripts.")]
PAGE = 200
WRAPPING = frozenset({"issue", "message", "note", "shop", "event"})


def _admin() -> Any:
    from api.auth.principal import Principal

    # The operator at the command line sees everything, as an admin does through the API.
    return Principal(user_id=0, role="admin")


def _when(at: datetime | None) -> str:
    return "-" if at is None else at.astimezone().strftime("%m-%d %H:%M")


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    for name in columns:
        # Free text wraps; figures, ids and times never do.
        table.add_column(name, no_wrap=name not in WRAPPING)
    return table


def _all_vehicles(conn: Any) -> list[Any]:
    from api.vehicles.registry import list_page

    found, cursor = [], None
    while True:
        page = list_page(conn=conn, principal=_admin(), limit=PAGE, cursor=cursor)
        found += page.items
        if (cursor := page.next_cursor) is None:
            return found[::-1]  # oldest first, as a list reads


def _owner(vehicle: Any) -> str:
    if vehicle.fleet_id is not None:
        return f"fleet {vehicle.fleet_id}"
    return f"user {vehicle.owner_user_id}" if vehicle.owner_user_id is not None else "-"


@vehicles_app.command("list")
def vehicles_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every vehicle: VIN, owner or fleet, odometer, last seen, oil life, thinnest pad, alerts."""
    import db
    from api.vehicles.service import get_health

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        rows = [(v, get_health(conn=conn, vehicle_id=v.vehicle_id)) for v in _all_vehicles(conn)]
    if as_json:
        doc = [
            {**v.model_dump(mode="json"), "health": h.model_dump(mode="json") if h else None}
            for v, h in rows
        ]
        typer.echo(json.dumps(doc))
        return
    table = _table("id", "VIN", "owner", "km", "seen", "oil %", "pad mm", "alerts")
    for v, h in rows:
        pads = h.brake_pads if h else None
        table.add_row(
            str(v.vehicle_id),
            v.vin,
            _owner(v),
            _num(h.odometer_km if h else None, ",.0f"),
            _when(h.last_seen if h else None),
            _num(h.oil.oil_life_pct if h and h.oil else None, ".1f"),
            _num(min(pads.pad_front_mm, pads.pad_rear_mm) if pads else None, ".1f"),
            str(len(h.open_alerts)) if h else "0",
        )
    Console().print(table if rows else "no vehicles")


def _vehicle_id(conn: Any, vin_or_id: str) -> int:
    if vin_or_id.isdigit():
        return int(vin_or_id)
    row = conn.execute(
        "SELECT vehicle_id FROM vehicles WHERE vin = upper(%s)", (vin_or_id,)
    ).fetchone()
    if row is None:
        err.print(f"no vehicle with VIN {vin_or_id} (`wrenchlight vehicles list` shows them)")
        raise typer.Exit(1)
    return int(row[0])


def _open_orders(conn: Any, vehicle_id: int) -> list[Any]:
    from api.orders.service import list_page
    from orders.lifecycle import TERMINAL

    page = list_page(
        conn=conn,
        principal=_admin(),
        status=None,
        vehicle_id=vehicle_id,
        shop_id=None,
        limit=PAGE,
        cursor=None,
    )
    return [o for o in page.items if o.status not in TERMINAL]


@vehicles_app.command("show")
def vehicles_show(
    ctx: typer.Context,
    vin_or_id: Annotated[str, typer.Argument(help="The vehicle's VIN or numeric id.")],
    as_json: JsonOpt = False,
) -> None:
    """One vehicle's health (oil life, pads, odometer), its open alerts and open orders."""
    import db
    from api.vehicles.service import get_health

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        vehicle_id = _vehicle_id(conn, vin_or_id)
        health = get_health(conn=conn, vehicle_id=vehicle_id)
        if health is None:
            err.print(f"no vehicle {vin_or_id} (`wrenchlight vehicles list` shows them)")
            raise typer.Exit(1)
        open_orders = _open_orders(conn, vehicle_id)
    if as_json:
        doc = health.model_dump(mode="json")
        doc["open_orders"] = [o.model_dump(mode="json") for o in open_orders]
        typer.echo(json.dumps(doc))
        return
    out = Console()
    out.print(f"[bold]{health.vin}[/] (vehicle {vehicle_id})")
    out.print(
        f"odometer {_num(health.odometer_km, ',.1f')} km, last seen {_when(health.last_seen)}"
    )
    if health.oil:
        out.print(
            f"oil life {health.oil.oil_life_pct:.1f} % ({health.oil.band}), "
            f"{_num(health.oil.remaining_km, ',.0f')} km left"
        )
    if health.brake_pads:
        p = health.brake_pads
        out.print(
            f"brake pads front {p.pad_front_mm:.1f} mm, rear {p.pad_rear_mm:.1f} mm "
            f"({p.band}), {_num(p.remaining_km, ',.0f')} km left"
        )
    alerts = _table("alert", "kind", "severity", "raised", "message")
    for a in health.open_alerts:
        alerts.add_row(str(a.alert_id), a.kind, a.severity, _when(a.created_at), a.message)
    out.print(alerts if health.open_alerts else "no open alerts")
    out.print(_orders_table(open_orders) if open_orders else "no open orders")


def _orders_table(items: list[Any]) -> Table:
    table = _table("order", "VIN", "issue", "status", "shop", "due")
    for o in items:
        table.add_row(
            str(o.order_id),
            o.vin,
            o.issue,
            o.status,
            o.shop.name if o.shop else "-",
            _when(o.due_by),
        )
    return table


@orders_app.command("list")
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

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        vehicle_id = None if vehicle is None else _vehicle_id(conn, vehicle)
        page = list_page(
            conn=conn,
            principal=_admin(),
            status=status,
            vehicle_id=vehicle_id,
            shop_id=shop,
            limit=limit,
            cursor=None,
        )
    if as_json:
        typer.echo(json.dumps([o.model_dump(mode="json") for o in page.items]))
        return
    Console().print(_orders_table(page.items) if page.items else "no orders")


@orders_app.command("show")
def orders_show(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(help="The order's id.")],
    as_json: JsonOpt = False,
) -> None:
    """One order: the vehicle, the issue and job, the shop, the estimate and its timeline."""
    import db
    from api.orders.service import detail
    from orders.errors import OrderNotFound

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        try:
            order = detail(conn=conn, order_id=order_id, principal=_admin())
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
    timeline = _table("at", "event", "status", "by", "note")
    for e in order.events:
        timeline.add_row(_when(e.at), e.kind, e.status, e.actor, e.note or "")
    out.print(timeline if order.events else "no events yet")
