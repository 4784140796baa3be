# SPDX-License-Identifier: MIT
"""Dependencies shared by the routers, as ``Annotated`` aliases.

``PrincipalDep`` is the seam for authentication: today every caller is anonymous and may see
everything; the auth issue replaces ``current_principal`` and adds the ownership checks in the
``valid_*`` dependencies, so object-level authorization stays in one place per object type.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import psycopg
from fastapi import Depends, Path, Request

from api.problems import ProblemError


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection for the duration of one request."""
    with request.app.state.pool.connection() as conn:
        yield conn


ConnDep = Annotated[psycopg.Connection, Depends(get_conn)]


@dataclass(frozen=True)
class Principal:
    """Who is calling, and in which roles."""

    subject: str
    roles: frozenset[str]


ANONYMOUS = Principal("anonymous", frozenset())


def current_principal() -> Principal:
    """The caller (no authentication yet: everyone is anonymous)."""
    return ANONYMOUS


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def valid_vehicle_id(
    vehicle_id: Annotated[int, Path(ge=1, description="Vehicle id")],
    conn: ConnDep,
    principal: PrincipalDep,
) -> int:
    """The path's vehicle id, checked to exist (and, later, to be visible to the caller)."""
    row = conn.execute("SELECT 1 FROM vehicles WHERE vehicle_id = %s", (vehicle_id,)).fetchone()
    if row is None:
        raise ProblemError(
            404, "vehicle-not-found", "Vehicle not found", f"No vehicle with id {vehicle_id}."
        )
    return vehicle_id


VehicleIdDep = Annotated[int, Depends(valid_vehicle_id)]


def valid_fleet_id(
    fleet_id: Annotated[int, Path(ge=1, description="Fleet id")],
    conn: ConnDep,
    principal: PrincipalDep,
) -> int:
    """The path's fleet id, checked to exist (and, later, to be the caller's)."""
    row = conn.execute("SELECT 1 FROM fleets WHERE fleet_id = %s", (fleet_id,)).fetchone()
    if row is None:
        raise ProblemError(
            404, "fleet-not-found", "Fleet not found", f"No fleet with id {fleet_id}."
        )
    return fleet_id


FleetIdDep = Annotated[int, Depends(valid_fleet_id)]
