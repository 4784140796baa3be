# SPDX-License-Identifier: MIT
"""Routes of the vehicles domain."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ConnDep, VehicleIdDep
from api.problems import ProblemError, problem_response
from api.vehicles import service
from api.vehicles.schemas import VehicleHealth

router = APIRouter(prefix="/vehicles", tags=["vehicles"])


@router.get("/{vehicle_id}/health", response_model=VehicleHealth, responses=problem_response(404))
def vehicle_health(vehicle_id: VehicleIdDep, conn: ConnDep) -> VehicleHealth:
    """Oil life, brake pads, open alerts and latest values of one vehicle."""
    health = service.get_health(conn=conn, vehicle_id=vehicle_id)
    if health is None:  # deleted between the check and the read
        raise ProblemError(
            404, "vehicle-not-found", "Vehicle not found", f"No vehicle with id {vehicle_id}."
        )
    return health
