# SPDX-License-Identifier: MIT
"""``wrenchlight vehicles``: what the API shows of vehicles, in a terminal.

Every figure comes from the API's own domain services (``api.vehicles``, ``api.orders``), read
as an admin sees it, so the CLI and the API can never disagree. Tables fit 80 columns.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from wrenchlight.cli.common import err, require_db, settings_of
from wrenchlight.cli.records import (
    PAGE,
    JsonOpt,
    admin_principal,
    num,
    orders_table,
    table,
    vehicle_id_of,
    when,
)

app = typer.Typer(help="Vehicles: their health, open alerts and open orders.", no_args_is_help=True)


def _all_vehicles(conn: Any) -> list[Any]:
    from api.vehicles.registry import list_page

    found, cursor = [], None
    while True:
        page = list_page(conn=conn, principal=admin_principal(), limit=PAGE, cursor=cursor)
        found += page.items
        if (cursor := page.next_cursor) is None:
            return found[::-1]  # oldest first, as a list reads


def _owner(vehicle: Any) -> str:
    if vehicle.fleet_id is not None:
        return f"fleet {vehicle.fleet_id}"
    return f"user {vehicle.owner_user_id}" if vehicle.owner_user_id is not None else "-"


@app.command("list")
def vehicles_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every vehicle: VIN, owner or fleet, odometer, last seen, oil life, thinnest pad, alerts."""
    import db
    from api.vehicles.service import get_health

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        rows = [(v, get_health(conn=conn, vehicle_id=v.vehicle_id)) for v in _all_vehicles(conn)]
    if as_json:
        doc = [
            {**v.model_dump(mode="json"), "health": h.model_dump(mode="json") if h else None}
            for v, h in rows
        ]
        typer.echo(json.dumps(doc))
        return
    grid = table("id", "VIN", "owner", "km", "seen", "oil %", "pad mm", "alerts")
    for v, h in rows:
        pads = h.brake_pads if h else None
        grid.add_row(
            str(v.vehicle_id),
            v.vin,
            _owner(v),
            num(h.odometer_km if h else None, ",.0f"),
            when(h.last_seen if h else None),
            num(h.oil.oil_life_pct if h and h.oil else None, ".1f"),
            num(min(pads.pad_front_mm, pads.pad_rear_mm) if pads else None, ".1f"),
            str(len(h.open_alerts)) if h else "0",
        )
    Console().print(grid if rows else "no vehicles")


def _open_orders(conn: Any, vehicle_id: int) -> list[Any]:
    from api.orders.service import list_page
    from orders.lifecycle import TERMINAL

    page = list_page(
        conn=conn,
        principal=admin_principal(),
        status=None,
        vehicle_id=vehicle_id,
        shop_id=None,
        limit=PAGE,
        cursor=None,
    )
    return [o for o in page.items if o.status not in TERMINAL]


@app.command("show")
def vehicles_show(
    ctx: typer.Context,
    vin_or_id: Annotated[str, typer.Argument(help="The vehicle's VIN or numeric id.")],
    as_json: JsonOpt = False,
) -> None:
    """One vehicle's health (oil life, pads, odometer), its open alerts and open orders."""
    import db
    from api.vehicles.service import get_health

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        vehicle_id = vehicle_id_of(conn, vin_or_id)
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
    out.print(f"odometer {num(health.odometer_km, ',.1f')} km, last seen {when(health.last_seen)}")
    if health.oil:
        out.print(
            f"oil life {health.oil.oil_life_pct:.1f} % ({health.oil.band}), "
            f"{num(health.oil.remaining_km, ',.0f')} km left"
        )
    if health.brake_pads:
        p = health.brake_pads
        out.print(
            f"brake pads front {p.pad_front_mm:.1f} mm, rear {p.pad_rear_mm:.1f} mm "
            f"({p.band}), {num(p.remaining_km, ',.0f')} km left"
        )
    alerts = table("alert", "kind", "severity", "raised", "message")
    for a in health.open_alerts:
        alerts.add_row(str(a.alert_id), a.kind, a.severity, when(a.created_at), a.message)
    out.print(alerts if health.open_alerts else "no open alerts")
    out.print(orders_table(open_orders) if open_orders else "no open orders")


@app.command("mass")
def vehicles_mass(
    ctx: typer.Context,
    vin_or_id: Annotated[str, typer.Argument(help="The vehicle's VIN or numeric id.")],
    mass_kg: Annotated[
        float | None,
        typer.Option("--mass-kg", help="Kerb mass from the registration papers, 500-4,000 kg."),
    ] = None,
    body_type: Annotated[
        str | None,
        typer.Option(help="Body class: small, compact, midsize, suv, pickup or van."),
    ] = None,
    clear_mass: Annotated[
        bool, typer.Option("--clear-mass", help="Forget the mass (not known).")
    ] = False,
    clear_body_type: Annotated[
        bool, typer.Option("--clear-body-type", help="Forget the body type (not known).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set what the registration says of a vehicle's mass (as PATCH /vehicles/{id} does): the
    brake-pad model uses the mass, else the body type's typical mass, else a wide default.
    Without options, show them and the mass the model uses."""
    from pydantic import ValidationError

    import db
    from api.vehicles.registry import get_vehicle, update_settings
    from api.vehicles.schemas import VehicleSettings
    from predictive.mass import vehicle_mass

    given: dict[str, Any] = {}
    if mass_kg is not None or clear_mass:
        given["mass_kg"] = None if clear_mass else mass_kg
    if body_type is not None or clear_body_type:
        given["body_type"] = None if clear_body_type else body_type
    try:
        body = VehicleSettings(**given)
    except ValidationError as exc:
        for e in exc.errors():
            err.print(f"{e['loc'][0]}: {e['msg']}")
        raise typer.Exit(2) from None
    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        vehicle_id = vehicle_id_of(conn, vin_or_id)
        if given:
            update_settings(conn=conn, vehicle_id=vehicle_id, body=body)
        vehicle = get_vehicle(conn=conn, vehicle_id=vehicle_id)
    if vehicle is None:
        err.print(f"no vehicle {vin_or_id} (`wrenchlight vehicles list` shows them)")
        raise typer.Exit(1)
    used = vehicle_mass(
        registered_kg=vehicle.mass_kg, body_type=vehicle.body_type, fuel_type=vehicle.fuel_type
    )
    doc = {
        "vehicle_id": vehicle.vehicle_id,
        "vin": vehicle.vin,
        "mass_kg": vehicle.mass_kg,
        "body_type": vehicle.body_type,
        "model_mass_kg": used.mass_kg,
        "model_mass_rel_sd": round(used.rel_sd, 4),
        "model_mass_source": used.source,
    }
    if as_json:
        typer.echo(json.dumps(doc))
        return
    Console().print(
        f"{vehicle.vin}: registered mass {num(vehicle.mass_kg, ',.0f')} kg, body type "
        f"{vehicle.body_type or '-'}; the pad model uses {used.mass_kg:,.0f} kg "
        f"± {100 * used.rel_sd:.0f} % ({used.source})"
    )
