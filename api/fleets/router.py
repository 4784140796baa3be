# SPDX-License-Identifier: MIT
"""Routes of the fleets domain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.deps import ConnDep, FleetIdDep
from api.fleets import service
from api.fleets.schemas import FleetHealthPage, FleetKpis, Status
from api.pagination import CursorQuery
from api.problems import problem_response

router = APIRouter(prefix="/fleets", tags=["fleets"])
NOT_FOUND = problem_response(404)
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}
# A fleet manager's screen shows up to a thousand vehicles at once.
MAX_FLEET_PAGE = 1000


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
