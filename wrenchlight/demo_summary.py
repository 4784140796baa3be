# SPDX-License-Identifier: MIT
"""The demo's closing summary on the terminal: its orders, its figures, its accounts and the
web app's sign-ins, within 80 columns.

A VIN is never cut or wrapped (17 characters, its own column); a shop's name wraps at its
words; a booked visit's time goes under its status. The orders' estimates and distances are
one command away (``wrenchlight orders show``), so the table leaves them out. The web app's
address comes with one sign-in per role, the owner first (the one whose order waits for them),
each with what waits for that role and the page where it waits.
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
from wrenchlight.demo_world import World

VIN_CHARS = 17
# The roles a visitor signs in as, in the order they are shown, in the words people use.
SIGN_IN_ROLES = {
    "owner": "owner",
    "shop_staff": "shop staff",
    "fleet_manager": "fleet manager",
    "admin": "admin",
}

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


def sign_ins(accounts: list[dict[str, Any]], awaiting: int | None) -> list[dict[str, Any]]:
    """One account per role of ``SIGN_IN_ROLES``: for owners the one whose order ``awaiting``
    waits for their confirmation (its todo names it), else the first."""

    def waits(account: dict[str, Any]) -> bool:
        return awaiting is not None and f"confirm order {awaiting}" in account.get("todo", "")

    chosen = []
    for role in SIGN_IN_ROLES:
        found = [a for a in accounts if a["role"] == role]
        found.sort(key=lambda a: not waits(a))
        if found:
            chosen.append(found[0])
    return chosen


def next_steps(
    app_url: str, orders: dict[str, int], *, applied: bool = False
) -> dict[str, tuple[str, str]]:
    """Role → (what waits for it, the page where it waits), for the stories the world made."""
    steps = {}
    if (awaiting := orders.get("awaiting_owner")) is not None:
        steps["owner"] = ("an order to confirm", f"{app_url}/orders/{awaiting}")
    if "offered" in orders:
        steps["shop_staff"] = ("an offer to answer", f"{app_url}/shop")
    if "awaiting_approval" in orders:
        steps["fleet_manager"] = ("an order to approve", f"{app_url}/fleet/approvals")
    if applied:
        steps["admin"] = ("a shop's application to verify", f"{app_url}/admin/shops")
    return steps


def print_sign_ins(
    console: Console,
    app_url: str,
    accounts: list[dict[str, Any]],
    orders: dict[str, int],
    *,
    mailbox: bool = False,
    applied: bool = False,
) -> None:
    """The web app's address and a sign-in (email and password) per role, each with what
    waits for it and where (``next_steps``); the demo mailbox, where there is one."""
    awaiting = orders.get("awaiting_owner")
    steps = next_steps(app_url, orders, applied=applied)
    console.print(f"\n[bold]Web app[/] {app_url}/  sign in as:", highlight=False)
    for a in sign_ins(accounts, awaiting):
        line = f"  {SIGN_IN_ROLES[a['role']]:<14}{a['email']:<36}{a['password']}"
        console.print(line, soft_wrap=True, markup=False, highlight=False)
        if a["role"] in steps:
            what, where = steps[a["role"]]
            console.print(f"    {what}: {where}", soft_wrap=True, markup=False, highlight=False)
    if mailbox:
        console.print(
            f"  the mail they were sent, once signed in: {app_url}/demo/mail",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )


def print_accounts(console: Console, world: World) -> None:
    """The accounts, two lines each, and the car to claim, within 80 columns, so no key or
    code is ever wrapped."""
    console.print(
        "\n[bold]Demo accounts[/] (password: POST /auth/token; key: X-API-Key header)",
        highlight=False,
    )
    for a in world.accounts:
        owns = (
            f"shop {a.shop_id}"
            if a.shop_id is not None
            else f"fleet {a.fleet_id}"
            if a.fleet_id is not None
            else "vehicles " + ",".join(map(str, a.vehicle_ids))
            if a.vehicle_ids
            else "everything"
            if a.role == "admin"
            else "nothing yet"
        )
        for line in (f"  {a.role:<13} {a.email:<34} {a.password}", f"    {a.api_key}"):
            console.print(line, soft_wrap=True, markup=False, highlight=False)
        console.print(
            f"    owns {owns}" + (f"; {a.todo}" if a.todo else ""),
            markup=False,
            highlight=False,
        )
    car = world.claimable
    if car is not None:
        lines = (
            f"\nUnclaimed car: VIN {car.vin}, dongle {car.device_id}",
            "  claim it: POST /vehicles/claims as a new owner (an admin invites one:",
            "  POST /auth/invitations), with the body",
            f'  {{"vin": "{car.vin}", "pairing_code": "{car.pairing_code}"}}',
        )
        for line in lines:
            console.print(line, soft_wrap=True, markup=False, highlight=False)
