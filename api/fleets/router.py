# SPDX-License-Identifier: MIT
"""Routes of the fleets domain."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import ConnDep, FleetIdDep
from api.problems import not_found, problem_response

router = APIRouter(prefix="/fleets", tags=["fleets"])


class FleetOut(BaseModel):
    """A fleet and the size of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fleet_id": 1,
                    "name": "Becker Logistics",
                    "vehicles": 240,
                    "created_at": "2026-01-05T09:00:00Z",
                }
            ]
        }
    )

    fleet_id: int
    name: str
    vehicles: int
    created_at: datetime


@router.get(
    "/{fleet_id}", response_model=FleetOut, responses=problem_response(403) | problem_response(404)
)
def get_fleet(fleet_id: FleetIdDep, conn: ConnDep) -> FleetOut:
    """A fleet: its name and how many vehicles it has."""
    row = conn.execute(
        "SELECT f.fleet_id, f.name, "
        "(SELECT count(*) FROM vehicles v WHERE v.fleet_id = f.fleet_id), f.created_at "
        "FROM fleets f WHERE f.fleet_id = %s",
        (fleet_id,),
    ).fetchone()
    if row is None:  # deleted between the check and the read
        raise not_found("fleet", fleet_id)
    return FleetOut(fleet_id=row[0], name=row[1], vehicles=row[2], created_at=row[3])
