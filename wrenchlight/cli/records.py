# SPDX-License-Identifier: MIT
"""Vehicles and orders as the command line shows them: an admin's view through the API's own
services, in tables that fit 80 columns (shared by ``vehicles`` and ``orders``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from wrenchlight.cli.common import err

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (one document) for scripts.")]
PAGE = 200
WRAPPING = frozenset({"issue", "message", "note", "shop", "event"})


def admin_principal() -> Any:
    """The operator at the command line, who sees what an admin sees."""
    from api.auth.principal import Principal

    # The operator at the command line sees everything, as an admin does through the API.
    return Principal(user_id=0, role="admin")


def when(at: datetime | None) -> str:
    """A local time to the minute, or a dash."""
    return "-" if at is None else at.astimezone().strftime("%m-%d %H:%M")


def num(value: float | None, fmt: str) -> str:
    """A figure in ``fmt``, or a dash when there is none."""
    return "-" if value is None else format(value, fmt)


def table(*columns: str) -> Table:
    """A borderless table whose free-text columns wrap."""
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    for name in columns:
        # Free text wraps; figures, ids and times never do.
        grid.add_column(name, no_wrap=name not in WRAPPING)
    return grid


def vehicle_id_of(conn: Any, vin_or_id: str) -> int:
    """The id of the vehicle named by its VIN or id; exit 1 when there is none."""
    from db.rows import scalar

    if vin_or_id.isdigit():
        return int(vin_or_id)
    found = scalar(conn, "SELECT vehicle_id FROM vehicles WHERE vin = upper(%s)", (vin_or_id,))
    if found is None:
        err.print(f"no vehicle with VIN {vin_or_id} (`wrenchlight vehicles list` shows them)")
        raise typer.Exit(1)
    return int(found)


def orders_table(items: list[Any]) -> Table:
    """Orders, one a line: id, VIN, issue, status, shop and when the job is due."""
    grid = table("order", "VIN", "issue", "status", "shop", "due")
    for o in items:
        grid.add_row(
            str(o.order_id),
            o.vin,
            o.issue,
            o.status,
            o.shop.name if o.shop else "-",
            when(o.due_by),
        )
    return grid
