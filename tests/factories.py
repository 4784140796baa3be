# SPDX-License-Identifier: MIT
"""Factories for the rows tests create: fleets, users, shops, vehicles, devices, predictions,
alerts, service orders and their offers, webhook subscriptions.

Each is a plain function over a psycopg connection: sensible defaults, keyword overrides, and a
small record of what it created. A column a call does not name keeps the table's default, so a
seed row says only what its test cares about.

Why not factory_boy: it builds objects through an ORM or a model class, and Wrenchlight has
neither; its tests write through the same SQL and service functions the application uses.
So vehicles, devices, users and fleets come from the project's own writers (``db.registry``,
``api.auth.users``, ``api.fleets.members``), which keeps them true to the schema and its
rules. Predictions, alerts, orders, offers, shops and subscriptions have no writer that takes
a row as given (the application derives them from readings, alerts and imports), so those
factories insert the named columns, composed with ``psycopg.sql``.

``DB_NOW`` stands for the database's ``now()`` where a test's row must share the database's
clock rather than the test's.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from api.auth import Role
from api.auth.users import create_user
from api.fleets.members import create_fleet
from db import registry

DB_NOW = sql.SQL("now()")
IN_AN_HOUR = sql.SQL("now() + INTERVAL '1 hour'")
_serial = itertools.count(1)


def new_vin() -> str:
    """A VIN nobody else uses (hex digits are valid VIN characters)."""
    return "WL" + uuid.uuid4().hex[:15].upper()


def _name(prefix: str) -> str:
    """A name unique within the test run."""
    return f"{prefix} {next(_serial)}"


def _param(value: Any) -> Any:
    """A column's parameter: a dict as JSON, anything else as psycopg adapts it."""
    return Jsonb(dict(value)) if isinstance(value, Mapping) else value


def insert(conn: psycopg.Connection, table: str, returning: str, **columns: Any) -> Any:
    """Insert one row of ``columns`` into ``table`` and return its ``returning`` column; a
    value that is SQL (``DB_NOW``) goes in as written, the others as parameters."""
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(
            v if isinstance(v, sql.Composable) else sql.Placeholder() for v in columns.values()
        ),
        sql.Identifier(returning),
    )
    params = [_param(v) for v in columns.values() if not isinstance(v, sql.Composable)]
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _given(**columns: Any) -> dict[str, Any]:
    """The columns a call named (None: leave the column to its default)."""
    return {k: v for k, v in columns.items() if v is not None}


@dataclass(frozen=True)
class Fleet:
    """A fleet."""

    fleet_id: int
    name: str


def fleet(conn: psycopg.Connection, *, name: str | None = None) -> Fleet:
    """A new, empty fleet."""
    made = create_fleet(conn=conn, name=name or _name("Fleet"))
    return Fleet(made.fleet_id, made.name)


@dataclass(frozen=True)
class User:
    """A user of some role, tied to a fleet or a shop when the role needs one."""

    user_id: int
    role: Role
    email: str


def user(
    conn: psycopg.Connection,
    role: Role = "owner",
    *,
    email: str | None = None,
    password: str | None = None,
    fleet_id: int | None = None,
    shop_id: int | None = None,
) -> User:
    """A new user (no password unless given: hashing one costs tens of ms)."""
    email = email or f"{role}-{next(_serial)}-{uuid.uuid4().hex[:6]}@example.test"
    user_id = create_user(
        conn=conn, email=email, role=role, password=password, fleet_id=fleet_id, shop_id=shop_id
    )
    return User(user_id, role, email)


@dataclass(frozen=True)
class Shop:
    """A repair shop."""

    shop_id: int
    name: str


def shop(
    conn: psycopg.Connection,
    *,
    name: str | None = None,
    lat: float = 48.1,
    lon: float = 11.5,
    capabilities: Iterable[str] | None = None,
    **columns: Any,
) -> Shop:
    """A shop at (lat, lon); ``columns`` sets any other column of ``shops``."""
    name = name or _name("Shop")
    caps = None if capabilities is None else list(capabilities)
    shop_id = insert(
        conn,
        "shops",
        "shop_id",
        name=name,
        lat=lat,
        lon=lon,
        **_given(capabilities=caps),
        **columns,
    )
    return Shop(int(shop_id), name)


@dataclass(frozen=True)
class Vehicle:
    """A vehicle."""

    vehicle_id: int
    vin: str


def vehicle(
    conn: psycopg.Connection,
    *,
    vin: str | None = None,
    owner_user_id: int | None = None,
    vin_proven: bool | None = None,
    home: tuple[float, float] | None = None,
    **details: Any,
) -> Vehicle:
    """A vehicle through ``db.registry.create_vehicle`` (``details``: its keyword arguments),
    then given an owner or an unproven VIN when asked, as claiming one would."""
    vin = vin or new_vin()
    if home is not None:
        details |= {"home_lat": home[0], "home_lon": home[1]}
    vehicle_id = registry.create_vehicle(conn, vin=vin, **details)
    claim = _given(owner_user_id=owner_user_id, vin_proven=vin_proven)
    if claim:
        conn.execute(
            sql.SQL("UPDATE vehicles SET ({}) = ROW({}) WHERE vehicle_id = %s").format(
                sql.SQL(", ").join(map(sql.Identifier, claim)),
                sql.SQL(", ").join(sql.Placeholder() * len(claim)),
            ),
            [*claim.values(), vehicle_id],
        )
    return Vehicle(vehicle_id, vin)


def _vehicle_by_id(conn: psycopg.Connection, vehicle_id: int) -> Vehicle:
    row = conn.execute("SELECT vin FROM vehicles WHERE vehicle_id = %s", (vehicle_id,)).fetchone()
    assert row is not None, f"no vehicle {vehicle_id}"
    return Vehicle(vehicle_id, row[0])


def vehicle_state(
    conn: psycopg.Connection,
    vehicle_id: int,
    *,
    last_seen: datetime | sql.Composable | None = None,
    odometer_km: float | None = None,
    latest: Mapping[str, Any] | None = None,
) -> None:
    """The vehicle's current state as ingest keeps it (last seen: now, by the test's clock)."""
    insert(
        conn,
        "vehicle_state",
        "vehicle_id",
        vehicle_id=vehicle_id,
        last_seen=last_seen if last_seen is not None else datetime.now(UTC),
        **_given(odometer_km=odometer_km, latest=latest),
    )


def trouble_codes(
    conn: psycopg.Connection,
    vehicle_id: int,
    *,
    stored: Iterable[str] = (),
    pending: Iterable[str] = (),
    permanent: Iterable[str] = (),
) -> None:
    """The vehicle's current trouble codes, as the last DTC snapshot left them."""
    insert(
        conn,
        "vehicle_dtcs",
        "vehicle_id",
        vehicle_id=vehicle_id,
        stored=list(stored),
        pending=list(pending),
        permanent=list(permanent),
    )


@dataclass(frozen=True)
class Device:
    """A device attached to a vehicle."""

    device_id: str
    vehicle_id: int


def device(conn: psycopg.Connection, vehicle_id: int, *, device_id: str | None = None) -> Device:
    """A device attached to ``vehicle_id`` through ``db.registry.register_device``."""
    device_id = device_id or f"dev-{uuid.uuid4().hex[:12]}"
    registry.register_device(conn, device_id=device_id, vehicle_id=vehicle_id)
    return Device(device_id, vehicle_id)


@dataclass(frozen=True)
class Prediction:
    """One published prediction of a model."""

    prediction_id: int
    vehicle_id: int
    model: str


def prediction(
    conn: psycopg.Connection,
    vehicle_id: int,
    *,
    model: str = "oil_life",
    value: float = 12.0,
    unit: str | None = None,
    time: datetime | sql.Composable | None = None,
    model_version: str = "test",
    remaining_km: float | None = None,
    evidence: Mapping[str, Any] | None = None,
) -> Prediction:
    """A prediction stamped now by the test's clock (``time=DB_NOW``: the database's); the
    unit follows the model (% of oil life, mm of pad) unless given."""
    unit = unit or ("mm" if model == "brake_pads" else "%")
    prediction_id = insert(
        conn,
        "predictions",
        "prediction_id",
        vehicle_id=vehicle_id,
        model=model,
        model_version=model_version,
        time=time if time is not None else datetime.now(UTC),
        value=value,
        unit=unit,
        **_given(remaining_km=remaining_km, evidence=evidence),
    )
    return Prediction(int(prediction_id), vehicle_id, model)


@dataclass(frozen=True)
class Alert:
    """An alert raised for a vehicle."""

    alert_id: int
    vehicle_id: int
    kind: str


def alert(
    conn: psycopg.Connection,
    vehicle_id: int,
    *,
    kind: str = "oil_change",
    severity: str = "warning",
    message: str = "Oil life 12 %",
    **columns: Any,
) -> Alert:
    """An open alert; ``columns`` sets any other column of ``alerts`` (tier, status,
    prediction_id, evidence, created_at, ...)."""
    alert_id = insert(
        conn,
        "alerts",
        "alert_id",
        vehicle_id=vehicle_id,
        kind=kind,
        severity=severity,
        message=message,
        **columns,
    )
    return Alert(int(alert_id), vehicle_id, kind)


@dataclass(frozen=True)
class Order:
    """A service order."""

    order_id: int
    vehicle_id: int
    shop_id: int | None
    status: str


def order(
    conn: psycopg.Connection,
    vehicle: Vehicle | int,
    *,
    shop_id: int | None = None,
    status: str | None = None,
    issue: str = "Oil life 9 %",
    job_code: str = "OIL-CHG",
    job_description: str = "Oil change",
    **columns: Any,
) -> Order:
    """A service order for ``vehicle`` inserted in its ``status`` (the status triggers fire as
    for any new order); ``columns`` sets any other column of ``service_orders``. ``vehicle``
    is a record or the id of a vehicle (whose VIN the order copies)."""
    if isinstance(vehicle, int):
        vehicle = _vehicle_by_id(conn, vehicle)
    order_id = insert(
        conn,
        "service_orders",
        "order_id",
        vehicle_id=vehicle.vehicle_id,
        vin=vehicle.vin,
        issue=issue,
        job_code=job_code,
        job_description=job_description,
        **_given(shop_id=shop_id, status=status),
        **columns,
    )
    return Order(int(order_id), vehicle.vehicle_id, shop_id, status or "proposed")


@dataclass(frozen=True)
class Offer:
    """An order offered to a shop."""

    offer_id: int
    order_id: int
    shop_id: int


def offer(
    conn: psycopg.Connection,
    order_id: int,
    shop_id: int,
    *,
    mode: str = "broadcast",
    rank: int = 1,
    offered_at: datetime | sql.Composable = DB_NOW,
    expires_at: datetime | sql.Composable = IN_AN_HOUR,
    **columns: Any,
) -> Offer:
    """An offer open for an hour by the database's clock; ``columns``: responded_at, response."""
    offer_id = insert(
        conn,
        "service_offers",
        "offer_id",
        order_id=order_id,
        shop_id=shop_id,
        mode=mode,
        rank=rank,
        offered_at=offered_at,
        expires_at=expires_at,
        **columns,
    )
    return Offer(int(offer_id), order_id, shop_id)


@dataclass(frozen=True)
class Subscription:
    """A webhook subscription."""

    subscription_id: int
    url: str


def subscription(
    conn: psycopg.Connection,
    *,
    url: str = "https://hooks.example.com/a",
    event_types: Iterable[str] = ("alert.raised",),
    secret: str = "whsec_test",
    **columns: Any,
) -> Subscription:
    """A webhook subscription; ``columns``: fleet_id, shop_id, description, active."""
    subscription_id = insert(
        conn,
        "webhook_subscriptions",
        "subscription_id",
        url=url,
        event_types=list(event_types),
        secret=secret,
        **columns,
    )
    return Subscription(int(subscription_id), url)
