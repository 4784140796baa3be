# SPDX-License-Identifier: MIT
"""Vehicles as registered: one, or the caller's, a keyset page at a time."""

from __future__ import annotations

from typing import Any

import psycopg

from api import access
from api.auth.principal import Principal
from api.pagination import decode_cursor, next_cursor
from api.vehicles.schemas import VehicleOut, VehiclePage

_SELECT = (
    "SELECT v.vehicle_id, v.vin, v.make, v.model, v.model_year, v.fuel_type, v.fleet_id, "
    "v.owner_user_id FROM vehicles v "
)
_FIELDS = tuple(VehicleOut.model_fields)


def _out(row: tuple[Any, ...]) -> VehicleOut:
    return VehicleOut(**dict(zip(_FIELDS, row, strict=True)))


def get_vehicle(*, conn: psycopg.Connection, vehicle_id: int) -> VehicleOut | None:
    """One vehicle (its visibility was checked by ``valid_vehicle_id``)."""
    row = conn.execute(_SELECT + "WHERE v.vehicle_id = %s", (vehicle_id,)).fetchone()
    return None if row is None else _out(row)


def list_page(
    *, conn: psycopg.Connection, principal: Principal, limit: int, cursor: str | None
) -> VehiclePage:
    """One page of the vehicles the caller may see, newest first."""
    where, params = access.vehicles(principal)
    rows = conn.execute(
        _SELECT
        + f"WHERE {where} AND (%(after_id)s::bigint IS NULL OR v.vehicle_id < %(after_id)s) "
        "ORDER BY v.vehicle_id DESC LIMIT %(limit)s",
        {**params, "after_id": decode_cursor(cursor), "limit": limit + 1},
    ).fetchall()
    return VehiclePage(
        items=[_out(r) for r in rows[:limit]],
        next_cursor=next_cursor([r[0] for r in rows], limit),
    )
