# SPDX-License-Identifier: MIT
"""One small world with a person of every role, for the web app's role matrix
(``test_web_role_matrix.py``): an owner with three orders at one shop (booked, offered, done
with a signed report and a photo), another owner, that shop's staff and another shop's, a
fleet whose van's order waits for its manager's approval at the same shop, another fleet and
its manager, and an admin; a session for each; a fingerprint of every data table, to show a
refused form changed nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factories
from fleet_helpers import fleet_car, fleet_order, manager
from psycopg import sql
from report_images import png
from shop_helpers import offered_order, pending_offer, shop_of, shop_staff
from web_helpers import Person, make_car, make_owner
from web_order_helpers import booked_order, open_shops

from api.auth.keys import create_key
from orders import approval, placement
from orders.policy import PlacementPolicy
from web import sessions
from web.deps import ANON_CSRF_COOKIE, SESSION_COOKIE
from web.notify import channels

ROLES = (
    "anon",
    "owner",
    "other_owner",
    "staff",
    "other_staff",
    "manager",
    "other_manager",
    "admin",
)
# Tables a refused form may write to: the API's audit log records refusals too.
UNWATCHED = ("audit_log", "alembic_version")
SESSION_TTL = timedelta(hours=2)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: its cookie's token and its form token (None: signed out)."""

    token: str | None
    csrf: str

    def cookie(self) -> str:
        """The Cookie header this browser sends."""
        if self.token is None:
            return f"{ANON_CSRF_COOKIE}={self.csrf}"
        return f"{SESSION_COOKIE}={self.token}"


@dataclass
class World:
    """The ids of the world's objects, its people's sessions, and what only some may know."""

    ids: dict[str, int | str] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    # role -> the identifying words (VINs, emails, fleet names) that role may meet in pages.
    knows: dict[str, set[str]] = field(default_factory=dict)

    def secrets(self) -> set[str]:
        """Every identifying word of the world."""
        return set().union(*self.knows.values())

    def not_for(self, role: str) -> set[str]:
        """The identifying words ``role`` must never be shown."""
        if role == "admin":
            return set()
        return self.secrets() - self.knows.get(role, set())


def session_of(conn, user_id: int) -> Session:
    """A new signed-in session of the user (no password typed)."""
    now = datetime.now(UTC)
    token, _ = sessions.start(conn=conn, user_id=user_id, now=now, ttl=SESSION_TTL)
    found = sessions.find(conn=conn, token=token, now=now)
    assert found is not None
    return Session(token, found.csrf_token)


def _complete_with_report(client, conn, order_id: int, staff: Session) -> tuple[str, int]:
    """Check the booked order in, start it, add a photo and complete it with the report on
    the job card, as its shop's staff; the report's code and the photo's file id."""
    from test_web_shop_jobs import report_form

    headers = {"Cookie": staff.cookie()}
    base = f"/app/shop/jobs/{order_id}"
    for step in ("check-in", "start"):
        done = client.post(f"{base}/{step}", data={"csrf_token": staff.csrf}, headers=headers)
        assert done.status_code == 303, done.text
    photo = client.post(
        f"{base}/photos",
        data={"csrf_token": staff.csrf, "kind": "before"},
        files=[("photos", ("before.png", png(), "image/png"))],
        headers=headers,
    )
    assert photo.status_code == 303, photo.text
    done = client.post(f"{base}/complete", data=report_form(staff.csrf), headers=headers)
    assert done.status_code == 303, done.text
    client.cookies.clear()
    code = conn.execute(
        "SELECT code FROM report_signatures WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
    file_id = conn.execute(
        "SELECT min(file_id) FROM report_files WHERE order_id = %s AND kind = 'before'",
        (order_id,),
    ).fetchone()[0]
    return code, int(file_id)


def build_world(client, conn) -> World:
    """The world: every role, their objects and sessions (see the module's docstring)."""
    tag = uuid.uuid4().hex[:6].upper()
    vin = {k: f"WLM{tag}{n + 1:08d}" for n, k in enumerate(VIN_KEYS)}
    now = datetime.now(UTC)
    open_shops(conn, now)
    owner, other_owner = make_owner(conn, "owner"), make_owner(conn, "other-owner")
    booked = booked_order(conn, owner, vin=vin["booked"], now=now)
    shop_a = shop_of(conn, booked)
    offered = offered_order(conn, owner, vin=vin["offered"], now=now)
    offer_id, offered_to = pending_offer(conn, offered)
    done = booked_order(conn, owner, vin=vin["done"], now=now)
    assert offered_to == shop_a == shop_of(conn, done)
    shop_b = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s ORDER BY shop_id LIMIT 1", (shop_a,)
    ).fetchone()[0]
    other_car = make_car(conn, other_owner, vin=vin["other_owner"], now=now)

    fleet = factories.fleet(conn, name=f"Alpenland Haulage {tag}")
    other_fleet = factories.fleet(conn, name=f"Nordsee Kurier {tag}")
    approval.set_policy(
        conn, fleet_id=fleet.fleet_id, limit_amount=Decimal(50), currency="EUR", actor="t", now=now
    )
    fleet_job = fleet_order(conn, fleet.fleet_id, vin=vin["fleet"], now=now)
    placement.owner_confirm(conn=conn, order_id=fleet_job, now=now, policy=PlacementPolicy())
    placement.schedule(conn=conn, order_id=fleet_job, now=now, actor="fleet")
    assert shop_of(conn, fleet_job) == shop_a
    other_van = fleet_car(conn, other_fleet.fleet_id, vin=vin["other_fleet"], now=now)

    people: dict[str, Person | factories.User] = {
        "owner": owner,
        "other_owner": other_owner,
        "staff": shop_staff(conn, shop_a, "staff"),
        "other_staff": shop_staff(conn, shop_b, "other-staff"),
        "manager": manager(conn, fleet.fleet_id),
        "other_manager": manager(conn, other_fleet.fleet_id),
        "admin": factories.user(conn, "admin"),
    }
    world = World()
    world.sessions["anon"] = Session(None, f"anon-{uuid.uuid4().hex}")
    for role, person in people.items():
        channels.email_channel(conn, person.user_id)  # made on first sight of Settings
        world.sessions[role] = session_of(conn, person.user_id)
    code, photo = _complete_with_report(client, conn, done, world.sessions["staff"])

    def car_of(order_id: int) -> int:
        return conn.execute(
            "SELECT vehicle_id FROM service_orders WHERE order_id = %s", (order_id,)
        ).fetchone()[0]

    world.ids = {
        "booked": booked,
        "booked_car": car_of(booked),
        "offered": offered,
        "offer": offer_id,
        "done": done,
        "photo": photo,
        "code": code,
        "fleet_order": fleet_job,
        "fleet_car": car_of(fleet_job),
        "other_car": other_car,
        "other_van": other_van.vehicle_id,
        "fleet": fleet.fleet_id,
        "other_fleet": other_fleet.fleet_id,
        "shop_a": shop_a,
        "shop_b": shop_b,
        "owner_id": owner.user_id,
        "staff_user": people["staff"].user_id,
        "slot": free_slot(conn, shop_a),
        "channel": conn.execute(
            "INSERT INTO notify_channels (user_id, kind, url, label) "
            "VALUES (%s, 'apprise', 'ntfy://ntfy.example.com/wl-matrix', 'phone') "
            "RETURNING channel_id",
            (owner.user_id,),
        ).fetchone()[0],
        "key": create_key(conn=conn, user_id=owner.user_id, name="matrix").key_id,
    }
    emails = {role: person.email for role, person in people.items()}
    world.knows = {
        "owner": {emails["owner"], vin["booked"], vin["offered"], vin["done"]},
        "other_owner": {emails["other_owner"], vin["other_owner"]},
        "staff": {emails["staff"], vin["booked"], vin["offered"], vin["done"], vin["fleet"]},
        "other_staff": {emails["other_staff"]},
        "manager": {emails["manager"], vin["fleet"], fleet.name},
        "other_manager": {emails["other_manager"], vin["other_fleet"], other_fleet.name},
        "admin": {emails["admin"]},
    }
    return world


VIN_KEYS = ("booked", "offered", "done", "other_owner", "fleet", "other_fleet")


def free_slot(conn, shop_id: int) -> int:
    """The shop's last free slot (two weeks ahead of when the world was made)."""
    return conn.execute(
        "SELECT slot_id FROM shop_slots WHERE shop_id = %s AND order_id IS NULL "
        "ORDER BY starts_at DESC LIMIT 1",
        (shop_id,),
    ).fetchone()[0]


def watched_tables(conn) -> list[str]:
    """Every data table but the audit log, read from the catalog (a new one is watched too)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "AND c.relname <> ALL(%s) ORDER BY c.relname",
        (list(UNWATCHED),),
    ).fetchall()
    return [r[0] for r in rows]


def fingerprint(conn, tables: list[str]) -> dict[str, str]:
    """Each table's rows as one hash, in one query."""
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL(
            "SELECT {name}, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
            "FROM {table} AS t"
        ).format(name=sql.Literal(name), table=sql.Identifier(name))
        for name in tables
    )
    return {name: digest for name, digest in conn.execute(query).fetchall()}
