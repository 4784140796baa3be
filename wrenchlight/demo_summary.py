# SPDX-License-Identifier: MIT
"""The demo's closing summary on the terminal: its orders and its figures, within 80 columns.

A VIN is never cut or wrapped (17 characters, its own column); a shop's name wraps at its
words; a booked visit's time goes under its status. The orders' estimates and distances are
one command away (``wrenchlight orders show``), so the table leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from rich import box
from rich.console import Console
from rich.table import Table

from db.rows import records

VIN_CHARS = 17

_ORDERS_SQL = (
    "SELECT o.order_id, o.vin, o.component, s.name AS shop, o.status, sl.starts_at AS visit "
    "FROM service_orders o LEFT JOIN shops s USING (shop_id) "
    "LEFT JOIN shop_slots sl USING (slot_id) ORDER BY o.order_id"
)


@dataclass(frozen=True, slots=True)
class SummaryOrder:
    """One order as the summary's table shows it: no shop or visit until it has them."""

    order_id: int
    vin: str
    component: str
    shop: str | None
    status: str
    visit: datetime | None


def summary_orders(conn: psycopg.Connection) -> list[SummaryOrder]:
    """Every order as the summary's table shows it."""
    return records(conn, SummaryOrder, _ORDERS_SQL)


def orders_table(orders: list[SummaryOrder]) -> Table:
    """The "Service orders created" table of ``summary_orders``' rows."""
    table = Table(title="Service orders created", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("order", justify="right", no_wrap=True)
    table.add_column("VIN", no_wrap=True, min_width=VIN_CHARS)
    table.add_column("job", no_wrap=True)
    table.add_column("shop", overflow="fold", ratio=1)
    table.add_column("status", no_wrap=True)
    for o in orders:
        when = "" if o.visit is None else "\n" + o.visit.strftime("%a %d %b %H:%M")
        table.add_row(
            str(o.order_id),
            o.vin,
            str(o.component).replace("_", " "),
            o.shop or "-",
            f"{o.status}{when}",
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


def print_summary(console: Console, summary: dict[str, Any], orders: list[SummaryOrder]) -> None:
    """The orders' table (if any) and the figures."""
    if orders:
        console.print(orders_table(orders))
    for line in summary_lines(summary):
        console.print(line, highlight=False)
