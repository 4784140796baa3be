# SPDX-License-Identifier: MIT
"""Vehicles as registered: one, or the caller's, a keyset page at a time."""

from __future__ import annotations

import psycopg
from psycopg import sql

from api import access
from api.auth.principal import Principal
from api.pagination import decode_cursor, next_cursor
from api.problems import ProblemError, not_found
from api.vehicles.schemas import VehicleCreate, VehicleOut, VehiclePage, VehicleSettings
from db.rows import record, records, scalar

# A registration as VehicleOut names it.
_SELECT = sql.SQL(
    "SELECT v.vehicle_id, v.vin, v.make, v.model, v.model_year, v.fuel_type, v.mass_kg, "
    "v.body_type, v.fleet_id, v.owner_user_id, v.vin_proven FROM vehicles v "
)


def for_principal(vehicle: VehicleOut, principal: Principal) -> VehicleOut:
    """The registration as ``principal`` may see it: a shop sees the car, not who holds it."""
    if principal.role != "shop_staff":
        return vehicle
    return vehicle.model_copy(update={"owner_user_id": None, "fleet_id": None})


def get_vehicle(*, conn: psycopg.Connection, vehicle_id: int) -> VehicleOut | None:
    """One vehicle (its visibility was checked by ``valid_vehicle_id``)."""
    return record(conn, VehicleOut, _SELECT + sql.SQL("WHERE v.vehicle_id = %s"), (vehicle_id,))


def list_page(
    *, conn: psycopg.Connection, principal: Principal, limit: int, cursor: str | None
) -> VehiclePage:
    """One page of the vehicles the caller may see, newest first."""
    where, params = access.vehicles(principal)
    query = _SELECT + sql.SQL(
        "WHERE {} AND (%(after_id)s::bigint IS NULL OR v.vehicle_id < %(after_id)s) "
        "ORDER BY v.vehicle_id DESC LIMIT %(limit)s"
    ).format(where)
    rows = records(
        conn,
        VehicleOut,
        query,
        {**params, "after_id": decode_cursor(cursor), "limit": limit + 1},
    )
    return VehiclePage(
        items=[for_principal(r, principal) for r in rows[:limit]],
        next_cursor=next_cursor([r.vehicle_id for r in rows], limit),
    )


def _exists(conn: psycopg.Connection, query: str, object_id: int | None) -> bool:
    return object_id is None or scalar(conn, query, (object_id,)) is not None


def _tenancy(
    conn: psycopg.Connection, principal: Principal, body: VehicleCreate
) -> tuple[int | None, int | None]:
    """(owner_user_id, fleet_id) of a new vehicle: the caller's own unless they are admin.

    Naming a fleet or user the caller may not see is answered like naming a missing one.
    """
    owner, fleet = body.owner_user_id, body.fleet_id
    if principal.is_admin:
        if not _exists(conn, "SELECT 1 FROM users WHERE user_id = %s", owner):
            raise not_found("user", owner)
        if not _exists(conn, "SELECT 1 FROM fleets WHERE fleet_id = %s", fleet):
            raise not_found("fleet", fleet)
        return owner, fleet
    mine = {"owner": principal.user_id, "fleet": principal.fleet_id}
    if principal.role == "owner":
        mine["fleet"] = None
    else:  # a fleet manager registers fleet vehicles, owned by the fleet, not by a person
        mine["owner"] = None
    if fleet is not None and fleet != mine["fleet"]:
        raise not_found("fleet", fleet)
    if owner is not None and owner != mine["owner"]:
        raise not_found("user", owner)
    return mine["owner"], mine["fleet"]


def register(*, conn: psycopg.Connection, principal: Principal, body: VehicleCreate) -> VehicleOut:
    """Register a vehicle for the caller (an owner's or their fleet's); 409 if the VIN is known.

    A VIN names one physical car, so a second registration is refused rather than silently
    moved; moving a car between owners is an admin's job. An owner's registration is unproven
    (anyone can type a VIN): it loses the car to whoever claims it with a provisioned dongle's
    pairing code, and shows no data of such a dongle. Admins and fleets vouch for theirs.
    """
    owner, fleet = _tenancy(conn, principal, body)
    vehicle_id = scalar(
        conn,
        "INSERT INTO vehicles (vin, make, model, model_year, fuel_type, mass_kg, body_type, "
        "fleet_id, owner_user_id, vin_proven) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (vin) DO NOTHING RETURNING vehicle_id",
        (
            body.vin,
            body.make,
            body.model,
            body.model_year,
            body.fuel_type,
            body.mass_kg,
            body.body_type,
            fleet,
            owner,
            principal.role != "owner",
        ),
    )
    if vehicle_id is None:
        raise ProblemError(
            409,
            "vehicle-exists",
            "Vehicle exists",
            f"VIN {body.vin} is registered already. If you hold its Wrenchlight dongle, claim "
            "it with POST /vehicles/claims and the pairing code on the dongle's label; a fleet "
            "adds it with POST /fleets/{fleet_id}/vehicles.",
        )
    vehicle = get_vehicle(conn=conn, vehicle_id=vehicle_id)
    assert vehicle is not None
    return vehicle


def update_settings(
    *, conn: psycopg.Connection, vehicle_id: int, body: VehicleSettings
) -> VehicleSettings:
    """Store the owner's choices for one vehicle; the settings as stored.

    A field left out keeps its value; ``mass_kg`` or ``body_type`` sent as null is cleared
    (not known: the pad model falls back to the body type's or the unknown default).
    """
    given = body.model_fields_set
    stored = record(
        conn,
        VehicleSettings,
        "UPDATE vehicles SET share_history_with_shops = "
        "COALESCE(%(share)s, share_history_with_shops), "
        "mass_kg = CASE WHEN %(set_mass)s THEN %(mass)s::real ELSE mass_kg END, "
        "body_type = CASE WHEN %(set_body)s THEN %(body)s::text ELSE body_type END "
        "WHERE vehicle_id = %(vehicle_id)s "
        "RETURNING share_history_with_shops, mass_kg, body_type",
        {
            "share": body.share_history_with_shops,
            "set_mass": "mass_kg" in given,
            "mass": body.mass_kg,
            "set_body": "body_type" in given,
            "body": body.body_type,
            "vehicle_id": vehicle_id,
        },
    )
    if stored is None:  # deleted between the check and the write
        raise not_found("vehicle", vehicle_id)
    return stored
