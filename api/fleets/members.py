# SPDX-License-Identifier: MIT
"""Fleets and their vehicles: an admin creates fleets; a fleet's manager adds vehicles by VIN.

Adding a VIN we do not know registers the vehicle in the fleet; a known one joins the fleet
only if nobody holds it: a car an owner claimed with proof, or one in another fleet, is refused
with the reason, because moving a car between tenants takes its current holder's consent. An
owner's unproven registration (a typed VIN, ``vehicles.vin_proven`` false) does not hold the
car against a fleet, a tenant an admin vouched for: the fleet takes it, the owner's own devices
are detached, and an audit row names the owner.
"""

from __future__ import annotations

from typing import Any

import psycopg

from api import access
from api.auth.principal import Principal
from api.devices.pairing import record_displaced
from api.fleets.schemas import FleetOut, FleetPage, FleetVehicleAdd
from api.pagination import decode_cursor, next_cursor
from api.problems import ProblemError, not_found
from api.vehicles.registry import get_vehicle
from api.vehicles.schemas import VehicleOut

_SELECT = (
    "SELECT f.fleet_id, f.name, "
    "(SELECT count(*) FROM vehicles v WHERE v.fleet_id = f.fleet_id), f.created_at FROM fleets f "
)


def _out(row: tuple[Any, ...]) -> FleetOut:
    return FleetOut(fleet_id=row[0], name=row[1], vehicles=row[2], created_at=row[3])


def get_fleet(*, conn: psycopg.Connection, fleet_id: int) -> FleetOut:
    """One fleet with its size; ProblemError 404 if unknown."""
    row = conn.execute(_SELECT + "WHERE f.fleet_id = %s", (fleet_id,)).fetchone()
    if row is None:
        raise not_found("fleet", fleet_id)
    return _out(row)


def create_fleet(*, conn: psycopg.Connection, name: str) -> FleetOut:
    """A new, empty fleet."""
    row = conn.execute("INSERT INTO fleets (name) VALUES (%s) RETURNING fleet_id", (name,))
    fetched = row.fetchone()
    assert fetched is not None
    return get_fleet(conn=conn, fleet_id=int(fetched[0]))


def list_page(
    *, conn: psycopg.Connection, principal: Principal, limit: int, cursor: str | None
) -> FleetPage:
    """One page of the fleets the caller may see (admins: all; a fleet manager: theirs)."""
    where, params = access.fleets(principal)
    rows = conn.execute(
        _SELECT + f"WHERE {where} AND (%(after)s::bigint IS NULL OR f.fleet_id > %(after)s) "
        "ORDER BY f.fleet_id LIMIT %(limit)s",
        {**params, "after": decode_cursor(cursor), "limit": limit + 1},
    ).fetchall()
    return FleetPage(
        items=[_out(r) for r in rows[:limit]], next_cursor=next_cursor([r[0] for r in rows], limit)
    )


def add_vehicle(
    *, conn: psycopg.Connection, fleet_id: int, body: FleetVehicleAdd
) -> tuple[VehicleOut, bool]:
    """Add a vehicle to the fleet by VIN: (vehicle, True if it was registered just now).

    ProblemError 409 when an owner holds the car with proof or another fleet has it.
    """
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO vehicles (vin, make, model, model_year, fuel_type, fleet_id) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (vin) DO NOTHING RETURNING vehicle_id",
            (body.vin, body.make, body.model, body.model_year, body.fuel_type, fleet_id),
        ).fetchone()
        created = row is not None
        if row is None:
            row = _join(conn, fleet_id, body.vin)
    vehicle = get_vehicle(conn=conn, vehicle_id=int(row[0]))
    assert vehicle is not None
    return vehicle, created


def _join(conn: psycopg.Connection, fleet_id: int, vin: str) -> tuple[Any, ...]:
    """A known vehicle joins the fleet if it is free; the row locked while deciding."""
    row = conn.execute(
        "SELECT vehicle_id, fleet_id, owner_user_id, vin_proven FROM vehicles WHERE vin = %s "
        "FOR UPDATE",
        (vin,),
    ).fetchone()
    assert row is not None  # the insert just conflicted on it, and vehicles are not deleted
    if row[1] == fleet_id:
        return row
    if row[1] is not None:
        raise ProblemError(
            409,
            "vehicle-in-another-fleet",
            "Vehicle is in another fleet",
            f"VIN {vin} belongs to another fleet. Its fleet manager must remove it first "
            "(DELETE /fleets/{fleet_id}/vehicles/{vehicle_id}); ask an admin if the car "
            "changed hands.",
        )
    if row[2] is not None and row[3]:
        raise ProblemError(
            409,
            "vehicle-owned",
            "Vehicle has an owner",
            f"VIN {vin} is claimed by its owner. The owner must release it from their account "
            "(POST /vehicles/{vehicle_id}/release) before a fleet can add it.",
        )
    if row[2] is not None:  # an unproven registration: the fleet vouches for its cars
        conn.execute(
            "UPDATE devices SET vehicle_id = NULL WHERE vehicle_id = %s AND NOT provisioned",
            (row[0],),
        )
        record_displaced(
            conn, vehicle_id=row[0], user_id=row[2], route="/fleets/{fleet_id}/vehicles"
        )
    conn.execute(
        "UPDATE vehicles SET fleet_id = %s, owner_user_id = NULL, vin_proven = true "
        "WHERE vehicle_id = %s",
        (fleet_id, row[0]),
    )
    return row


def remove_vehicle(*, conn: psycopg.Connection, fleet_id: int, vehicle_id: int) -> VehicleOut:
    """Take a vehicle out of the fleet (sold, returned); ProblemError 404 if it is not in it.

    The car keeps its data and its dongle; an owner may then claim it with a pairing code.
    """
    row = conn.execute(
        "UPDATE vehicles SET fleet_id = NULL WHERE vehicle_id = %s AND fleet_id = %s "
        "RETURNING vehicle_id",
        (vehicle_id, fleet_id),
    ).fetchone()
    if row is None:
        raise not_found("vehicle", vehicle_id)
    vehicle = get_vehicle(conn=conn, vehicle_id=vehicle_id)
    assert vehicle is not None
    return vehicle
