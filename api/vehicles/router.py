# SPDX-License-Identifier: MIT
"""Routes of the vehicles domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth.principal import Principal
from api.deps import ConnDep, PrincipalDep, VehicleIdDep, require_roles
from api.pagination import CursorQuery, LimitQuery
from api.problems import not_found, problem_response
from api.vehicles import registry, service
from api.vehicles.schemas import VehicleCreate, VehicleHealth, VehicleOut, VehiclePage

router = APIRouter(prefix="/vehicles", tags=["vehicles"])


@router.get("", response_model=VehiclePage, responses=problem_response(400))
def list_vehicles(
    conn: ConnDep, principal: PrincipalDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> VehiclePage:
    """The vehicles the caller may see, newest first."""
    return registry.list_page(conn=conn, principal=principal, limit=limit, cursor=cursor)


@router.post(
    "",
    response_model=VehicleOut,
    status_code=201,
    responses=problem_response(403) | problem_response(404) | problem_response(409),
)
def register_vehicle(
    body: VehicleCreate,
    principal: Annotated[Principal, Depends(require_roles("owner", "fleet_manager"))],
    conn: ConnDep,
) -> VehicleOut:
    """Register a vehicle: an owner's own, or one of a fleet manager's fleet."""
    return registry.register(conn=conn, principal=principal, body=body)


@router.get("/{vehicle_id}", response_model=VehicleOut, responses=problem_response(404))
def get_vehicle(vehicle_id: VehicleIdDep, conn: ConnDep) -> VehicleOut:
    """One vehicle's registration."""
    vehicle = registry.get_vehicle(conn=conn, vehicle_id=vehicle_id)
    if vehicle is None:  # deleted between the check and the read
        raise not_found("vehicle", vehicle_id)
    return vehicle


@router.get("/{vehicle_id}/health", response_model=VehicleHealth, responses=problem_response(404))
def vehicle_health(vehicle_id: VehicleIdDep, conn: ConnDep) -> VehicleHealth:
    """Oil life, brake pads, open alerts and latest values of one vehicle."""
    health = service.get_health(conn=conn, vehicle_id=vehicle_id)
    if health is None:  # deleted between the check and the read
        raise not_found("vehicle", vehicle_id)
    return health
