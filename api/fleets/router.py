# SPDX-License-Identifier: MIT
"""Routes of the fleets domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from api.deps import ConnDep, FleetIdDep
from api.fleets import service
from api.fleets.schemas import FleetHealthPage, FleetKpis, Status
from api.pagination import CursorQuery
from api.problems import not_found, problem_response

router = APIRouter(prefix="/fleets", tags=["fleets"])
NOT_FOUND = problem_response(403) | problem_response(404)
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}
# A fleet manager's screen shows up to a thousand vehicles at once.
MAX_FLEET_PAGE = 1000


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


@router.get("/{fleet_id}/health", response_model=FleetHealthPage, responses=NOT_FOUND)
def fleet_health(
    fleet_id: FleetIdDep,
    conn: ConnDep,
    status: Annotated[Status | None, Query(description="Only vehicles in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FLEET_PAGE)] = 100,
    cursor: CursorQuery = None,
) -> FleetHealthPage:
    """Every vehicle of the fleet: due soon, overdue, trouble codes, offline, by vehicle id."""
    return service.health_page(
        conn=conn, fleet_id=fleet_id, status=status, limit=limit, cursor=cursor
    )


@router.get(
    "/{fleet_id}/health.csv",
    response_class=StreamingResponse,
    responses=CSV | NOT_FOUND,
)
def fleet_health_csv(
    fleet_id: FleetIdDep,
    conn: ConnDep,
    status: Annotated[Status | None, Query(description="Only vehicles in this state")] = None,
) -> StreamingResponse:
    """The whole health table as CSV, for spreadsheets."""
    # Read it all before answering: the connection goes back to the pool when this returns.
    body = list(service.health_csv(conn=conn, fleet_id=fleet_id, status=status))
    return StreamingResponse(
        iter(body),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="fleet-{fleet_id}-health.csv"'},
    )


@router.get("/{fleet_id}/kpis", response_model=FleetKpis, responses=NOT_FOUND)
def fleet_kpis(
    fleet_id: FleetIdDep,
    conn: ConnDep,
    days: Annotated[int, Query(ge=1, le=400, description="Window of the service figures")] = 90,
) -> FleetKpis:
    """Vehicles due, overdue, with trouble codes and offline now; services, cost, downtime and
    the on-time rate over the window."""
    return service.kpis(conn=conn, fleet_id=fleet_id, days=days)
