# SPDX-License-Identifier: MIT
"""The demo's closing summary on the terminal: its orders and its figures, within 80 columns.

A VIN is never cut or wrapped (17 characters, its own column); a shop's name wraps at its
words; a booked visit's time goes under its status. The orders' estimates and distances are
one command away (``wrenchlight orders show``), so the table leaves them out.
"""

from __future__ import annotations

from typing import Any

import psycopg
from rich import box
from rich.console import Console
from rich.table import Table

VIN_CHARS = 17

_ORDERS_SQL = (
    "SELECT o.order_id, o.vin, o.component, s.name, o.status, sl.starts_at "
    "FROM service_orders o LEFT JOIN shops s USING (shop_id) "
    "LEFT JOIN shop_slots sl USING (slot_id) ORDER BY o.order_id"
)


def summary_orders(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """Every order as the summary's table shows it."""
    return conn.execute(_ORDERS_SQL).fetchall()


def orders_table(orders: list[tuple[Any, ...]]) -> Table:
    """The "Service orders created" table of ``summary_orders``' rows."""
    table = Table(title="Service orders created", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("order", justify="right", no_wrap=True)
    table.add_column("VIN", no_wrap=True, min_width=VIN_CHARS)
    table.add_column("job", no_wrap=True)
    table.add_column("shop", overflow="fold", ratio=1)
    table.add_column("status", no_wrap=True)
    for order_id, vin, component, shop, status, visit in orders:
        when = "" if visit is None else "\n" + visit.strftime("%a %d %b %H:%M")
        table.add_row(
            str(order_id),
            vin,
            str(component).replace("_", " "),
            shop or "-",
            f"{status}{when}",
        )
    return table


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The demo's figures, a few short lines."""
    return [
        f"[bold]{summary['vehicles']}[/] vehicles, {summary['days']} days: "
        f"[bold]{summary['samples_ingested']:,}[/] samples in {summary['batches']:,} batches",
        f"{summary['predictions']:,} predictions, [bold]{summary['alerts']:,}[/] alerts, "
        f"[bold]{summary['service_orders']:,}[/] service orders, "
        f"{summary['dead_letters']:,} dead letters",
        f"oil-life error vs hidden truth {summary['oil_life_mean_abs_error_pct']} pct-pts; "
        f"{summary['elapsed_s']} s",
    ]


def print_summary(console: Console, summary: dict[str, Any], orders: list[tuple[Any, ...]]) -> None:
    """The orders' table (if any) and the figures."""
    if orders:
        console.print(orders_table(orders))
    for line in summary_lines(summary):
        console.print(line, highlight=False)
