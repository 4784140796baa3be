# SPDX-License-Identifier: MIT
"""The demo's world: people with accounts, and each with something to do.

Built after the fleet's drive (``demo.run_demo``), on the simulated cars that have no alert or
order of their own yet: were it built before, the drive's evaluations would resolve its
alerts again. It makes

- owners with their cars: Alex's car has an order waiting for Alex's confirmation; Blair's
  first car has an order offered (broadcast) to shops and waiting for one to accept, the
  second a booked visit;
- a fleet with its manager: one fleet car's service is completed with the shop's report,
  another's order waits for the manager's confirmation, the rest of the cars are the fleet's;
- staff for the shop that got the broadcast offer and the booked visit (and for another shop
  the offer went to, so two shops can race for it), and the demo's admin.

Every account gets a random password (``POST /auth/token``) and an API key, printed once.
An order starts from an alert raised through the evaluator's own ``sync_alerts`` on the car's
latest prediction, and moves only through the orders package's functions. Each story runs in
one transaction on the database's clock, so the demo's background dispatcher never sees a
half-made order (it would book it at once).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from rich.console import Console

from api.auth.hashing import hash_password
from api.auth.keys import create_key
from api.auth.users import UserError, create_user
from orders.dispatch import owner_confirm, propose, schedule
from orders.errors import OrdersError
from orders.feedback import WorkReport, check_in, complete, start_service
from orders.policy import DispatchPolicy
from orders.service import create_order_for_alert, get_order
from predictive.health import BRAKE_MODEL, OIL_MODEL, TIER_SEVERITY, TIERS, latest_predictions
from predictive.publish import sync_alerts

log = logging.getLogger(__name__)

DOMAIN = "demo.wrenchlight.invalid"
FLEET_NAME = "Lakeshore Deliveries"
# A person walks into the demo whenever they like: offers stay open for days, not the
# platform's five minutes.
OFFER_POLICY = DispatchPolicy(mode="broadcast", k=3, shop_response=timedelta(days=3))
BOOK_POLICY = DispatchPolicy(mode="auto")
ENGINES = ("petrol", "diesel", "hybrid")
# The stories in the order cars are handed to them: Alex's, Blair's two, the fleet's two.
STORIES = ("awaiting_owner", "offered", "scheduled", "completed", "awaiting_fleet")


class WorldError(Exception):
    """The demo world cannot be built on this database; the message says why."""


@dataclass(frozen=True)
class Account:
    """A demo user, their secrets (shown once) and what they own."""

    role: str
    email: str
    password: str
    api_key: str
    user_id: int
    vehicle_ids: list[int] = field(default_factory=list)
    fleet_id: int | None = None
    shop_id: int | None = None
    todo: str = ""


@dataclass
class World:
    """The accounts, and the id of the order of each story (those that could be made)."""

    accounts: list[Account] = field(default_factory=list)
    orders: dict[str, int] = field(default_factory=dict)

    def accounts_json(self) -> list[dict[str, Any]]:
        """The accounts as the demo prints them with ``--json``."""
        return [asdict(a) for a in self.accounts]


def create_fleet(*, conn: psycopg.Connection, name: str) -> int:
    """A new fleet's id (the demo's own until the API has a fleet-creation service)."""
    row = conn.execute("INSERT INTO fleets (name) VALUES (%s) RETURNING fleet_id", (name,))
    return int(row.fetchone()[0])  # type: ignore[index]


def _assign(
    conn: psycopg.Connection, vehicle_ids: list[int], *, owner: int | None, fleet: int | None
) -> None:
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s, fleet_id = %s WHERE vehicle_id = ANY(%s)",
        (owner, fleet, vehicle_ids),
    )


def _account(conn: psycopg.Connection, *, role: str, email: str, **tenancy: Any) -> Account:
    password = secrets.token_urlsafe(9)
    user_id = create_user(
        conn=conn,
        email=email,
        role=role,  # type: ignore[arg-type]  # one of ROLES, written here
        password=password,
        fleet_id=tenancy.get("fleet_id"),
        shop_id=tenancy.get("shop_id"),
    )
    key = create_key(conn=conn, user_id=user_id, name="demo world").key
    return Account(role, email, password, key, user_id, **tenancy)


def _admin(conn: psycopg.Connection, email: str) -> Account:
    """The demo's admin (made when the API started), now with a password and a key."""
    try:
        return _account(conn, role="admin", email=email)
    except UserError:
        password = secrets.token_urlsafe(9)
        row = conn.execute(
            "UPDATE users SET password_hash = %s WHERE email = %s RETURNING user_id",
            (hash_password(password), email),
        ).fetchone()
        if row is None:
            raise WorldError(f"the user {email} exists but could not be updated") from None
        key = create_key(conn=conn, user_id=int(row[0]), name="demo world").key
        return Account("admin", email, password, key, int(row[0]))


def _candidates(conn: psycopg.Connection, devices: list[str]) -> list[tuple[int, str]]:
    """(vehicle id, fuel) of the devices' cars with no unresolved alert and no open order,
    petrol and diesel cars first (an oil change is the job every shop does)."""
    rows = conn.execute(
        "SELECT v.vehicle_id, v.fuel_type FROM devices d JOIN vehicles v USING (vehicle_id) "
        "WHERE d.device_id = ANY(%s) AND v.owner_user_id IS NULL AND v.fleet_id IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.vehicle_id = v.vehicle_id "
        "  AND a.status <> 'resolved') "
        "AND NOT EXISTS (SELECT 1 FROM service_orders o WHERE o.vehicle_id = v.vehicle_id "
        "  AND o.status NOT IN ('completed', 'declined', 'cancelled', 'expired')) "
        # A hybrid's or an EV's job needs a shop certified for high voltage: fewer shops.
        "ORDER BY v.fuel_type IN ('petrol', 'diesel') DESC, v.fuel_type = 'hybrid' DESC, "
        "v.vehicle_id",
        (devices,),
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def _order(conn: psycopg.Connection, vehicle_id: int, fuel: str) -> int:
    """An open order from an alert raised on the car's latest prediction: the oil for a car
    with an engine, the brake pads for an electric one."""
    kind, model = ("oil_change", OIL_MODEL) if fuel in ENGINES else ("brake_pads", BRAKE_MODEL)
    latest = latest_predictions(conn=conn, vehicle_id=vehicle_id).get(model)
    what = "Oil change" if kind == "oil_change" else "Brake pads"
    alert_id = sync_alerts(
        conn,
        vehicle_id=vehicle_id,
        kind=kind,
        tiers=TIERS,
        tier=TIERS[0],
        severity=TIER_SEVERITY[TIERS[0]],
        message=f"{what} soon (raised by the demo world)",
        evidence={"tier": TIERS[0], "demo_world": True},
        prediction_id=None if latest is None else latest.prediction_id,
    )
    order_id = None if alert_id is None else create_order_for_alert(conn=conn, alert_id=alert_id)
    if order_id is None:
        raise WorldError(f"vehicle {vehicle_id} already has an open {kind} alert")
    return order_id


def _db_now(conn: psycopg.Connection) -> datetime:
    """The transaction's time: what the order's own rows are stamped with."""
    return conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]


def _report(conn: psycopg.Connection, order_id: int) -> WorkReport:
    order = get_order(conn=conn, order_id=order_id)
    currency = (order.estimate or {}).get("currency", "USD")
    odometer = order.odometer_km
    if odometer is None:  # nothing ingested yet: the last service's reading is the latest known
        row = conn.execute(
            "SELECT greatest(oil_changed_odometer_km, pads_measured_odometer_km, 0) "
            "FROM vehicles WHERE vehicle_id = %s",
            (order.vehicle_id,),
        ).fetchone()
        odometer = float(row[0]) if row else 0.0
    odometer = round(odometer, 1)
    if order.component == "oil_change":
        return WorkReport(
            work_done="Oil and filter changed",
            parts=[{"part": "engine oil 5W-30", "quantity": 4.5, "unit": "l"}],
            cost="89.00",  # type: ignore[arg-type]  # pydantic parses it to Decimal
            currency=currency,
            odometer_km=odometer,
            oil_changed=True,
        )
    return WorkReport(
        work_done="Front brake pads replaced, rear pads measured",
        parts=[{"part": "front brake pad set", "quantity": 1, "unit": "set"}],
        cost="189.00",  # type: ignore[arg-type]
        currency=currency,
        odometer_km=odometer,
        pad_front_mm=12.0,
        pad_rear_mm=8.0,
    )


def _story(
    conn: psycopg.Connection, story: str, vehicle_id: int, fuel: str, shops: dict[str, int | None]
) -> int | None:
    """One story's order, in one transaction; None when no shop could take it."""
    with conn.transaction():
        now = _db_now(conn)
        order_id = _order(conn, vehicle_id, fuel)
        policy = OFFER_POLICY if story == "offered" else BOOK_POLICY
        ranked = propose(conn=conn, order_id=order_id, now=now, policy=policy, consent="propose")
        if not ranked:
            log.warning("demo world: no shop for the %s story (order %d)", story, order_id)
            return None
        ids = [r["shop_id"] for r in ranked]
        # The shop with staff gets the broadcast offer, and the later stories' visits when
        # they ranked it too.
        main = shops["main"] if shops["main"] in ids else None
        if story == "offered":
            main = ids[0]
            shops["main"], shops["second"] = main, ids[1] if len(ids) > 1 else None
        if story not in ("awaiting_owner", "awaiting_fleet"):
            owner_confirm(conn=conn, order_id=order_id, now=now, policy=policy, shop_id=main)
        if story in ("scheduled", "completed"):
            schedule(conn=conn, order_id=order_id, now=now, actor="owner")
        if story == "completed":
            check_in(conn=conn, order_id=order_id, now=now, actor="shop")
            start_service(conn=conn, order_id=order_id, now=now, actor="shop")
            report = _report(conn, order_id)
            complete(conn=conn, order_id=order_id, now=now, report=report, actor="shop")
    return order_id


def _stories(
    conn: psycopg.Connection, cars: list[tuple[int, str]], world: World
) -> dict[str, int | None]:
    """The orders of the stories, as far as there are cars for them; returns the shops they
    went to (``main``: the broadcast offer's and the booked visit's, ``second``: another shop
    offered the same order)."""
    shops: dict[str, int | None] = {"main": None, "second": None}
    for story, (vehicle_id, fuel) in zip(STORIES, cars, strict=False):
        try:
            order_id = _story(conn, story, vehicle_id, fuel, shops)
        except (OrdersError, WorldError) as exc:  # a world half made is still one to walk in
            log.warning("demo world: the %s story on vehicle %d failed: %s", story, vehicle_id, exc)
            continue
        if order_id is not None:
            world.orders[story] = order_id
    return shops


def build_world(
    *, conn: psycopg.Connection, devices: list[str], admin_email: str, seed: int
) -> World:
    """Accounts, ownership and orders in every state on the devices' cars (see the module)."""
    world = World()
    cars = _candidates(conn, devices)
    by_story = dict(zip(STORIES, cars, strict=False))
    shops = _stories(conn, cars, world)
    orders = world.orders

    def car(*stories: str) -> list[int]:
        return [by_story[s][0] for s in stories if s in by_story]

    def todo(*items: tuple[str, str]) -> str:
        return "; ".join(f"{text} {orders[s]}" for s, text in items if s in orders)

    def person(name: str, role: str, **tenancy: Any) -> Account:
        return _account(conn, role=role, email=f"{name}.s{seed}@{DOMAIN}", **tenancy)

    alex = person(
        "alex",
        "owner",
        vehicle_ids=car("awaiting_owner"),
        todo=todo(("awaiting_owner", "confirm order")),
    )
    blair = person(
        "blair",
        "owner",
        vehicle_ids=car("offered", "scheduled"),
        todo=todo(("offered", "order offered to shops:"), ("scheduled", "visit booked:")),
    )
    fleet_id = create_fleet(conn=conn, name=FLEET_NAME)
    # The fleet also takes every simulated car nobody else got, the drive's alerts included.
    rows = conn.execute(
        "SELECT vehicle_id FROM devices WHERE device_id = ANY(%s) ORDER BY vehicle_id", (devices,)
    ).fetchall()
    rest = [int(r[0]) for r in rows if int(r[0]) not in alex.vehicle_ids + blair.vehicle_ids]
    manager = person(
        "morgan",
        "fleet_manager",
        fleet_id=fleet_id,
        vehicle_ids=rest,
        todo=todo(("awaiting_fleet", "confirm order"), ("completed", "report of order")),
    )
    for owner in (alex, blair):
        _assign(conn, owner.vehicle_ids, owner=owner.user_id, fleet=None)
    _assign(conn, rest, owner=None, fleet=fleet_id)
    world.accounts = [_admin(conn, admin_email), alex, blair, manager]
    visit = orders.get("scheduled")
    at_main = visit is not None and get_order(conn=conn, order_id=visit).shop_id == shops["main"]
    for name, shop_id in (("sam", shops["main"]), ("kim", shops["second"])):
        if shop_id is not None:
            jobs = [("offered", "accept the offer of order")]
            if name == "sam" and at_main:
                jobs.append(("scheduled", "visit"))
            world.accounts.append(person(name, "shop_staff", shop_id=shop_id, todo=todo(*jobs)))
    return world


def print_accounts(console: Console, world: World) -> None:
    """The accounts, two lines each and within 80 columns, so no key is ever wrapped."""
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
