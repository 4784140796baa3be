# SPDX-License-Identifier: MIT
"""Fleets and their vehicles: an admin creates fleets; a fleet's manager adds vehicles by VIN.

Adding a VIN we do not know registers the vehicle in the fleet; a known one joins the fleet
only if nobody holds it: a car an owner claimed with proof, or one in another fleet, is refused
with the reason, because moving a car between tenants takes its current holder's consent. An
owner's unproven registration (a typed VIN, ``vehicles.vin_proven`` false) does not hold the
car against a fleet, a tenant an admin vouched for: the fleet takes it, the owner's own devices
are detached and their MQTT credentials revoked, and an audit row names the owner.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from api import access
from api.auth.principal import Principal
from api.devices.broker import DeviceBroker
from api.devices.pairing import displace
from api.fleets.schemas import FleetOut, FleetPage, FleetVehicleAdd
from api.pagination import decode_cursor, next_cursor
from api.problems import ProblemError, not_found
from api.vehicles.registry import get_vehicle
from api.vehicles.schemas import VehicleOut
from db.rows import record, records, scalar

# A fleet as FleetOut names it (read with records/record into FleetOut).
_SELECT = sql.SQL(
    "SELECT f.fleet_id, f.name, "
    "(SELECT count(*) FROM vehicles v WHERE v.fleet_id = f.fleet_id) AS vehicles, "
    "f.created_at FROM fleets f "
)


@dataclass(frozen=True, slots=True)
class _Holder:
    """Who holds a known vehicle: a fleet, an owner (with or without proof), or nobody."""

    vehicle_id: int
    fleet_id: int | None
    owner_user_id: int | None
    vin_proven: bool


def get_fleet(*, conn: psycopg.Connection, fleet_id: int) -> FleetOut:
    """One fleet with its size; ProblemError 404 if unknown."""
    query = _SELECT + sql.SQL("WHERE f.fleet_id = %s")
    fleet = record(conn, FleetOut, query, (fleet_id,))
    if fleet is None:
        raise not_found("fleet", fleet_id)
    return fleet


def create_fleet(*, conn: psycopg.Connection, name: str) -> FleetOut:
    """A new, empty fleet."""
    fleet_id = scalar(conn, "INSERT INTO fleets (name) VALUES (%s) RETURNING fleet_id", (name,))
    assert fleet_id is not None
    return get_fleet(conn=conn, fleet_id=int(fleet_id))


def list_page(
    *, conn: psycopg.Connection, principal: Principal, limit: int, cursor: str | None
) -> FleetPage:
    """One page of the fleets the caller may see (admins: all; a fleet manager: theirs)."""
    where, params = access.fleets(principal)
    query = _SELECT + sql.SQL(
        "WHERE {} AND (%(after)s::bigint IS NULL OR f.fleet_id > %(after)s) "
        "ORDER BY f.fleet_id LIMIT %(limit)s"
    ).format(where)
    rows = records(
        conn, FleetOut, query, {**params, "after": decode_cursor(cursor), "limit": limit + 1}
    )
    return FleetPage(items=rows[:limit], next_cursor=next_cursor([r.fleet_id for r in rows], limit))


def add_vehicle(
    *, conn: psycopg.Connection, fleet_id: int, body: FleetVehicleAdd, device_broker: DeviceBroker
) -> tuple[VehicleOut, bool]:
    """Add a vehicle to the fleet by VIN: (vehicle, True if it was registered just now).

    ProblemError 409 when an owner holds the car with proof or another fleet has it; 503 when
    taking it from an unproven owner needs their devices revoked on a dynamic-security broker
    that does not confirm (nothing changed).
    """
    with conn.transaction():
        vehicle_id = scalar(
            conn,
            "INSERT INTO vehicles (vin, make, model, model_year, fuel_type, fleet_id) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (vin) DO NOTHING RETURNING vehicle_id",
            (body.vin, body.make, body.model, body.model_year, body.fuel_type, fleet_id),
        )
        created = vehicle_id is not None
        if vehicle_id is None:
            vehicle_id = _join(conn, fleet_id, body.vin, device_broker)
    vehicle = get_vehicle(conn=conn, vehicle_id=int(vehicle_id))
    assert vehicle is not None
    return vehicle, created


def _join(conn: psycopg.Connection, fleet_id: int, vin: str, device_broker: DeviceBroker) -> int:
    """A known vehicle joins the fleet if it is free (its id); the row locked while deciding."""
    row = record(
        conn,
        _Holder,
        "SELECT vehicle_id, fleet_id, owner_user_id, vin_proven FROM vehicles WHERE vin = %s "
        "FOR UPDATE",
        (vin,),
    )
    assert row is not None  # the insert just conflicted on it, and vehicles are not deleted
    if row.fleet_id == fleet_id:
        return row.vehicle_id
    if row.fleet_id is not None:
        raise ProblemError(
            409,
            "vehicle-in-another-fleet",
            "Vehicle is in another fleet",
            f"VIN {vin} belongs to another fleet. Its fleet manager must remove it first "
            "(DELETE /fleets/{fleet_id}/vehicles/{vehicle_id}); ask an admin if the car "
            "changed hands.",
        )
    if row.owner_user_id is not None and row.vin_proven:
        raise ProblemError(
            409,
            "vehicle-owned",
            "Vehicle has an owner",
            f"VIN {vin} is claimed by its owner. The owner must release it from their account "
            "(POST /vehicles/{vehicle_id}/release) before a fleet can add it.",
        )
    if row.owner_user_id is not None:  # an unproven registration: the fleet vouches for its cars
        displace(
            conn,
            vehicle_id=row.vehicle_id,
            user_id=row.owner_user_id,
            route="/fleets/{fleet_id}/vehicles",
            device_broker=device_broker,
        )
    conn.execute(
        "UPDATE vehicles SET fleet_id = %s, owner_user_id = NULL, vin_proven = true "
        "WHERE vehicle_id = %s",
        (fleet_id, row.vehicle_id),
    )
    return row.vehicle_id


def remove_vehicle(*, conn: psycopg.Connection, fleet_id: int, vehicle_id: int) -> VehicleOut:
    """Take a vehicle out of the fleet (sold, returned); ProblemError 404 if it is not in it.

    The car keeps its data and its dongle; an owner may then claim it with a pairing code.
    """
    removed = scalar(
        conn,
        "UPDATE vehicles SET fleet_id = NULL WHERE vehicle_id = %s AND fleet_id = %s "
        "RETURNING vehicle_id",
        (vehicle_id, fleet_id),
    )
    if removed is None:
        raise not_found("vehicle", vehicle_id)
    vehicle = get_vehicle(conn=conn, vehicle_id=vehicle_id)
    assert vehicle is not None
    return vehicle
