# SPDX-License-Identifier: MIT
"""The demo's world: people with accounts, and each with something to do.

Built after the fleet's drive (``demo.run_demo``), on the simulated cars that have no alert or
order of their own yet. It makes

- owners with their cars: Alex's car has an order waiting for Alex's confirmation; Blair's
  first car has an order offered (broadcast) to shops and waiting for one to accept, the
  second a booked visit;
- a fleet with its manager and a cost limit: one fleet car's service is completed with the
  shop's report, another's order waits for the manager's confirmation, a third's was confirmed
  and booked and, costing more than the limit, waits for the manager's approval before the
  shop may work on it; the rest of the cars are the fleet's;
- staff for the shop that got the broadcast offer and the booked visit (and for another shop
  the offer went to, so two shops can race for it), and the demo's admin;
- a shop that applied by itself (``api.shops.onboarding.apply``), waiting for the admin to
  verify it;
- one car nobody holds, with its dongle's pairing code, for a newcomer to claim as a new owner.

Every account gets a random password (``POST /auth/token``) and an API key, printed once.
People, fleets and cars are made through the same services the API uses: accounts with
``create_account``, the fleet and its cars (by VIN) with ``api.fleets.members``, and each
owner claims their cars with their dongles' pairing codes (``api.devices.pairing.claim``), so
the demo itself proves the claim flow.

A story's car genuinely needs its service, so the models hold its alert at every later
evaluation (the demo's background evaluator keeps running): a lab's part-way analysis of its
oil says 8 % of the life is left (``lab_results.record_analysis``; the oil life stays anchored
to it), or an electric car's pads are measured thin (``lab_results.record_pad_measurement``;
the pad model restarts from them). Either publishes the model's prediction at once, and the
alert it raises starts the order, which moves only through the orders package's functions.
Each story runs in one transaction on the database's clock, so the demo's background
order maker never sees a half-made order (it would book it at once).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from api.auth.accounts import create_account
from api.auth.keys import create_key
from api.auth.users import UserError, set_password
from api.devices.broker import DeviceBroker
from api.devices.pairing import claim, issue_codes
from api.fleets.members import add_vehicle, create_fleet
from api.fleets.schemas import FleetVehicleAdd
from api.problems import ProblemError
from api.shops.onboarding import apply
from api.shops.schemas import ShopApplication
from db.registry import device_vehicle
from db.rows import dicts, scalar
from orders.approval import set_policy
from orders.errors import OrdersError
from orders.feedback import WorkReport, check_in, complete, start_service
from orders.placement import owner_confirm, propose, schedule
from orders.policy import PlacementPolicy
from orders.service import create_order_for_alert, get_order
from predictive.health import OIL_MODEL, latest_predictions
from predictive.lab_results import record_analysis, record_pad_measurement

log = logging.getLogger(__name__)
# The demo's dongles connect with the broker's URL, not passwords of their own: nothing of
# theirs to revoke on its broker when a claim or a fleet takes a car.
DEMO_BROKER = DeviceBroker("none")

DOMAIN = "demo.wrenchlight.invalid"
FLEET_NAME = "Lakeshore Deliveries"
# A person walks into the demo whenever they like: offers stay open for days, not the
# platform's five minutes.
OFFER_POLICY = PlacementPolicy(mode="broadcast", k=3, shop_response=timedelta(days=3))
BOOK_POLICY = PlacementPolicy(mode="auto")
ENGINES = ("petrol", "diesel", "hybrid")
# The demo fleet's approval policy. Its currency is the demo's shops' (they are around Chicago):
# an estimate in another currency would wait for the manager whatever its amount, and the
# manager would read "in USD, the limit in EUR" rather than "over the limit".
FLEET_COST_LIMIT = Decimal("50.00")
FLEET_CURRENCY = "USD"
# The stories in the order cars are handed to them: Alex's, Blair's two, the fleet's three
# (when the drive leaves fewer cars with no alert of their own, the last stories go without).
STORIES = (
    "awaiting_owner",
    "offered",
    "scheduled",
    "completed",
    "awaiting_approval",
    "awaiting_fleet",
)
# The stories whose order waits, proposed, for the car's side to confirm it.
PROPOSED = ("awaiting_owner", "awaiting_fleet", "awaiting_approval")
# The shop that applies by itself and waits for the admin (fictional: a 555-01xx number).
APPLICANT_SHOP = {
    "name": "Riverbend Auto Works",
    "address": "48 Mill Lane",
    "phone": "+1 555-0199",
    "city": "Chicago",
    "country": "US",
    "timezone": "America/Chicago",
    "lat": 41.91,
    "lon": -87.68,
    "capabilities": ["oil_change", "brake_pads"],
    "currency": "USD",
}
# What the stories' cars genuinely need, so the models themselves hold each alert at every
# evaluation: the lab says 8 % of the oil's life is left (below the 15 % "change soon", above
# the 5 % "due now"), or the front pads measure 3.8 mm (below 4 mm, above 3.5 mm; rear 6 mm).
LAB_OIL_LEFT_PCT = 8.0
PADS_MEASURED_MM = (3.8, 6.0)


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


@dataclass(frozen=True)
class Claimable:
    """The car left for a newcomer: claim it with ``POST /vehicles/claims`` as a new owner."""

    vehicle_id: int
    vin: str
    device_id: str
    pairing_code: str


@dataclass
class World:
    """The accounts, the id of the order of each story (those that could be made), the car
    nobody holds yet (None when every car went to a story) and the shop waiting for the
    admin's verification (None when its application failed)."""

    accounts: list[Account] = field(default_factory=list)
    orders: dict[str, int] = field(default_factory=dict)
    claimable: Claimable | None = None
    applied_shop_id: int | None = None

    def accounts_json(self) -> list[dict[str, Any]]:
        """The accounts as the demo prints them with ``--json``."""
        return [asdict(a) for a in self.accounts]

    def claimable_json(self) -> dict[str, Any] | None:
        """The unclaimed car as the demo prints it with ``--json``."""
        return None if self.claimable is None else asdict(self.claimable)


def _account(conn: psycopg.Connection, *, role: str, email: str, **tenancy: Any) -> Account:
    password = secrets.token_urlsafe(9)
    made = create_account(
        conn=conn,
        email=email,
        role=role,  # type: ignore[arg-type]  # one of ROLES, written here
        password=password,
        fleet_id=tenancy.get("fleet_id"),
        shop_id=tenancy.get("shop_id"),
        key_name="demo world",
    )
    return Account(role, email, password, made.api_key, made.user_id, **tenancy)


def _admin(conn: psycopg.Connection, email: str) -> Account:
    """The demo's admin (made when the API started), now with a password and a key."""
    try:
        return _account(conn, role="admin", email=email)
    except UserError:  # made already, with API keys only: give it a password
        password = secrets.token_urlsafe(9)
        user_id = set_password(conn=conn, email=email, password=password)
        key = create_key(conn=conn, user_id=user_id, name="demo world").key
        return Account("admin", email, password, key, user_id)


def _claims(conn: psycopg.Connection, user_id: int, codes: dict[str, str]) -> list[int]:
    """The owner claims the cars of these dongles with their codes, as ``POST /vehicles/claims``
    does; returns the cars' ids."""
    claimed = []
    for device_id, code in codes.items():
        try:
            car = claim(
                conn=conn,
                user_id=user_id,
                code=code,
                now=datetime.now(UTC),
                device_broker=DEMO_BROKER,
                device_id=device_id,
            )
        except ProblemError as exc:  # a world half made is still one to walk in
            log.warning("demo world: the claim of dongle %s was refused: %s", device_id, exc)
            continue
        claimed.append(car.vehicle_id)
    return claimed


def _candidates(conn: psycopg.Connection, devices: list[str]) -> list[tuple[int, str]]:
    """(vehicle id, fuel) of the devices' cars with no unresolved alert and no open order,
    petrol and diesel cars first (an oil change is the job every shop does)."""
    rows = dicts(
        conn,
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
    )
    return [(int(r["vehicle_id"]), str(r["fuel_type"])) for r in rows]


def _odometer(conn: psycopg.Connection, vehicle_id: int) -> float:
    """The car's latest known odometer: its telemetry's, or its last service's."""
    km = scalar(
        conn,
        "SELECT GREATEST(s.odometer_km, v.oil_changed_odometer_km, v.pads_measured_odometer_km) "
        "FROM vehicles v LEFT JOIN vehicle_state s USING (vehicle_id) WHERE v.vehicle_id = %s",
        (vehicle_id,),
    )
    return round(float(km), 1) if km is not None else 0.0


def _open_alert(conn: psycopg.Connection, vehicle_id: int, kind: str) -> int | None:
    """The car's newest open alert of this kind."""
    alert_id = scalar(
        conn,
        "SELECT alert_id FROM alerts WHERE vehicle_id = %s AND kind = %s AND status = 'open' "
        "ORDER BY alert_id DESC LIMIT 1",
        (vehicle_id, kind),
    )
    return None if alert_id is None else int(alert_id)


def _needs_service(conn: psycopg.Connection, vehicle_id: int, fuel: str, now: datetime) -> str:
    """Give the car a genuine need the models see, and return the job's kind: for a car with
    an engine a lab's part-way analysis of its oil, for an electric one its pads measured
    thin. The evaluation that records it raises the alert; every later one keeps it."""
    odometer = _odometer(conn, vehicle_id)
    if fuel not in ENGINES:
        front, rear = PADS_MEASURED_MM
        record_pad_measurement(
            conn, vehicle_id=vehicle_id, front_mm=front, rear_mm=rear, odometer_km=odometer, now=now
        )
        return "brake_pads"
    latest = latest_predictions(conn=conn, vehicle_id=vehicle_id).get(OIL_MODEL)
    # Sampled no earlier than the car's newest evaluation: the lab's figure anchors the oil
    # as that evaluation saw it, and only what the engine consumes after it counts against
    # it. A sample before it would not be compared with it, and all the oil's use since the
    # change would count as after the sample.
    sampled_at = now if latest is None else max(now, latest.time)
    record_analysis(
        conn,
        vehicle_id=vehicle_id,
        sampled_at=sampled_at,
        life_left_pct=LAB_OIL_LEFT_PCT,
        drained=False,
        now=now,
        odometer_km=odometer,
        lab="Demo Oil Lab",
        recorded_by="demo world",
    )
    return "oil_change"


def _order(conn: psycopg.Connection, vehicle_id: int, fuel: str, now: datetime) -> int:
    """An open order from the alert the models raise on the car's genuine need."""
    kind = _needs_service(conn, vehicle_id, fuel, now)
    alert_id = _open_alert(conn, vehicle_id, kind)
    if alert_id is None:
        raise WorldError(
            f"vehicle {vehicle_id}: its {kind} is not due by the models' thresholds "
            f"(oil at {LAB_OIL_LEFT_PCT} %, pads at {PADS_MEASURED_MM[0]} mm)"
        )
    order_id = create_order_for_alert(conn=conn, alert_id=alert_id, now=now)
    if order_id is None:
        raise WorldError(f"vehicle {vehicle_id} already has an order for its {kind} alert")
    return order_id


def _report(conn: psycopg.Connection, order_id: int) -> WorkReport:
    order = get_order(conn=conn, order_id=order_id)
    currency = (order.estimate or {}).get("currency", "USD")
    odometer = order.odometer_km
    if odometer is None:  # nothing ingested yet: the last service's reading is the latest known
        odometer = _odometer(conn, order.vehicle_id)
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
        # The demo's clock, the one its evaluations and slots were made with (one clock per
        # flow); the transaction is what keeps the background order maker from a half-made order.
        now = datetime.now(UTC)
        order_id = _order(conn, vehicle_id, fuel, now)
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
        if story not in PROPOSED:
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


def _fleet_confirms(conn: psycopg.Connection, order_id: int, shop_id: int | None) -> None:
    """The fleet confirms the order, at the shop with staff when it was proposed, and the
    visit is booked: the fleet's policy sees the shop's price over its limit, so the order
    waits for the manager's approval, and the shop may not start until then."""
    with conn.transaction():
        now = datetime.now(UTC)
        match = get_order(conn=conn, order_id=order_id).match or {}
        proposed = {r["shop_id"] for r in match.get("ranked", [])}
        shop = shop_id if shop_id in proposed else None
        owner_confirm(conn=conn, order_id=order_id, now=now, policy=BOOK_POLICY, shop_id=shop)
        schedule(conn=conn, order_id=order_id, now=now, actor="owner")


def _application(conn: psycopg.Connection, seed: int) -> int | None:
    """A shop that applies by itself, as ``POST /auth/shop-applications`` does; its id. The
    applicant's account is made with it, and left out of the printed accounts: the admin's
    story is the shop, and every account printed is one more sign-in a visitor sorts through."""
    email = f"river.s{seed}@{DOMAIN}"
    body = ShopApplication.model_validate(
        APPLICANT_SHOP | {"contact_email": email, "password": secrets.token_urlsafe(12)}
    )
    try:
        shop, _ = apply(conn=conn, body=body)
    except ProblemError as exc:  # a world half made is still one to walk in
        log.warning("demo world: the shop's application was refused: %s", exc)
        return None
    return shop.shop_id


def _fleet_cars(conn: psycopg.Connection, fleet_id: int, vins: list[str]) -> list[int]:
    """The cars the fleet's manager adds by VIN, as ``POST /fleets/{id}/vehicles`` does."""
    added = []
    for vin in vins:
        try:
            vehicle, _ = add_vehicle(
                conn=conn,
                fleet_id=fleet_id,
                body=FleetVehicleAdd(vin=vin),
                device_broker=DEMO_BROKER,
            )
        except ProblemError as exc:  # a world half made is still one to walk in
            log.warning("demo world: the fleet could not add VIN %s: %s", vin, exc)
            continue
        added.append(vehicle.vehicle_id)
    return added


def build_world(
    *, conn: psycopg.Connection, devices: list[str], admin_email: str, seed: int
) -> World:
    """Accounts, ownership and orders in every state on the devices' cars (see the module)."""
    world = World()
    # One car always stays out of the stories, for a newcomer's claim.
    cars = _candidates(conn, devices)[: max(len(devices) - 1, 0)]
    by_story = dict(zip(STORIES, cars, strict=False))
    shops = _stories(conn, cars, world)
    orders = world.orders
    # Every dongle has its pairing code, as if printed on its label; the demo knows them all.
    codes = issue_codes(conn=conn, device_ids=devices)
    attached = {d: found for d in devices if (found := device_vehicle(conn, d)) is not None}
    device_of = {vehicle_id: d for d, (vehicle_id, _) in attached.items()}
    vin_of = dict(attached.values())

    def todo(*items: tuple[str, str]) -> str:
        return "; ".join(f"{text} {orders[s]}" for s, text in items if s in orders)

    def person(name: str, role: str, **tenancy: Any) -> Account:
        return _account(conn, role=role, email=f"{name}.s{seed}@{DOMAIN}", **tenancy)

    def owner(name: str, stories: tuple[str, ...], todo_text: str) -> Account:
        account = person(name, "owner", todo=todo_text)
        dongles = [device_of[by_story[s][0]] for s in stories if s in by_story]
        claimed = _claims(conn, account.user_id, {d: codes[d] for d in dongles})
        return replace(account, vehicle_ids=claimed)

    alex = owner("alex", ("awaiting_owner",), todo(("awaiting_owner", "confirm order")))
    blair = owner(
        "blair",
        ("offered", "scheduled"),
        todo(("offered", "order offered to shops:"), ("scheduled", "visit booked:")),
    )
    # One car nobody holds, for a newcomer's claim: the last that has no story of its own.
    in_stories = {vehicle_id for vehicle_id, _ in by_story.values()}
    spare = max((v for v in device_of if v not in in_stories), default=None)
    if spare is not None:
        device = device_of[spare]
        world.claimable = Claimable(spare, vin_of[spare], device, codes[device])
    # The fleet takes every other car nobody got, the drive's alerts included.
    taken = {*alex.vehicle_ids, *blair.vehicle_ids, spare}
    fleet_id = create_fleet(conn=conn, name=FLEET_NAME).fleet_id
    # Shops may charge the fleet up to this without asking: the order Morgan confirms costs
    # more, so the shop that takes it waits for Morgan's approval (/app/fleet/approvals).
    set_policy(
        conn,
        fleet_id=fleet_id,
        limit_amount=FLEET_COST_LIMIT,
        currency=FLEET_CURRENCY,
        actor="demo",
        now=datetime.now(UTC),
    )
    rest = [vin_of[v] for v in sorted(device_of) if v not in taken]
    fleet_cars = _fleet_cars(conn, fleet_id, rest)
    if "awaiting_approval" in orders:  # its car is the fleet's now: the policy applies
        try:
            _fleet_confirms(conn, orders["awaiting_approval"], shops["main"])
        except OrdersError as exc:  # a world half made is still one to walk in
            log.warning("demo world: the fleet's order could not be booked: %s", exc)
            del orders["awaiting_approval"]
    manager = person(
        "morgan",
        "fleet_manager",
        fleet_id=fleet_id,
        vehicle_ids=fleet_cars,
        todo=todo(
            ("awaiting_approval", "approve order"),
            ("awaiting_fleet", "confirm order"),
            ("completed", "report of order"),
        ),
    )
    world.applied_shop_id = _application(conn, seed)
    admin = _admin(conn, admin_email)
    if world.applied_shop_id is not None:
        admin = replace(admin, todo=f"verify shop {world.applied_shop_id}")
    world.accounts = [admin, alex, blair, manager]

    def at(order_id: int | None) -> int | None:
        return None if order_id is None else get_order(conn=conn, order_id=order_id).shop_id

    at_main = at(orders.get("scheduled")) == shops["main"]
    for name, shop_id in (("sam", shops["main"]), ("kim", shops["second"])):
        if shop_id is not None:
            jobs = [("offered", "accept the offer of order")]
            if name == "sam" and at_main:
                jobs.append(("scheduled", "visit"))
            if name == "sam" and at(orders.get("awaiting_approval")) == shop_id:
                jobs.append(("awaiting_approval", "fleet approving visit"))
            world.accounts.append(person(name, "shop_staff", shop_id=shop_id, todo=todo(*jobs)))
    return world
