# SPDX-License-Identifier: MIT
"""Routes of the fleets domain."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.auth.principal import Principal
from api.deps import ConnDep, FleetIdDep, require_roles
from api.devices import sync
from api.fleets import members, service
from api.fleets.schemas import (
    ApprovalItem,
    ApprovalPolicyIn,
    ApprovalPolicyOut,
    FleetCreate,
    FleetHealthPage,
    FleetKpis,
    FleetOut,
    FleetPage,
    FleetVehicleAdd,
    Status,
)
from api.orders.actions import now
from api.pagination import CursorQuery, LimitQuery
from api.problems import problem_response
from api.vehicles.schemas import VehicleOut
from orders import approval

router = APIRouter(prefix="/fleets", tags=["fleets"])
NOT_FOUND = problem_response(403) | problem_response(404)
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}
# A fleet manager's screen shows up to a thousand vehicles at once.
MAX_FLEET_PAGE = 1000
FleetRoles = Annotated[Principal, Depends(require_roles("fleet_manager"))]
Admin = Annotated[Principal, Depends(require_roles())]


@router.get("", response_model=FleetPage, responses=problem_response(400) | problem_response(403))
def list_fleets(
    conn: ConnDep, principal: FleetRoles, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> FleetPage:
    """The fleets the caller may see: admins all, a fleet manager their own."""
    return members.list_page(conn=conn, principal=principal, limit=limit, cursor=cursor)


@router.post("", response_model=FleetOut, status_code=201, responses=problem_response(403))
def create_fleet(body: FleetCreate, principal: Admin, conn: ConnDep) -> FleetOut:
    """Admins: create a fleet; then invite its manager with `POST /auth/invitations`."""
    return members.create_fleet(conn=conn, name=body.name)


@router.get("/{fleet_id}", response_model=FleetOut, responses=NOT_FOUND)
def get_fleet(fleet_id: FleetIdDep, conn: ConnDep) -> FleetOut:
    """A fleet: its name and how many vehicles it has."""
    return members.get_fleet(conn=conn, fleet_id=fleet_id)


@router.post(
    "/{fleet_id}/vehicles",
    response_model=VehicleOut,
    status_code=201,
    responses={200: {"model": VehicleOut, "description": "The vehicle was known and joined"}}
    | NOT_FOUND
    | problem_response(409),
)
def add_fleet_vehicle(
    fleet_id: FleetIdDep,
    body: FleetVehicleAdd,
    conn: ConnDep,
    response: Response,
    request: Request,
) -> VehicleOut:
    """Add a vehicle to the fleet by VIN: registered if new (201), joined if known and free
    (200); refused (409, with the reason) if an owner or another fleet holds it."""
    vehicle, created = members.add_vehicle(
        conn=conn, fleet_id=fleet_id, body=body, device_broker=sync.device_broker(request.app)
    )
    response.status_code = 201 if created else 200
    return vehicle


@router.delete("/{fleet_id}/vehicles/{vehicle_id}", response_model=VehicleOut, responses=NOT_FOUND)
def remove_fleet_vehicle(
    fleet_id: FleetIdDep,
    vehicle_id: Annotated[int, Path(ge=1, description="Vehicle id")],
    conn: ConnDep,
) -> VehicleOut:
    """Take a vehicle out of the fleet (sold, returned): it keeps its history and dongle, and
    its next owner claims it with a pairing code."""
    return members.remove_vehicle(conn=conn, fleet_id=fleet_id, vehicle_id=vehicle_id)


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


def _policy_out(found: approval.Policy) -> ApprovalPolicyOut:
    return ApprovalPolicyOut(
        fleet_id=found.fleet_id,
        limit_amount=float(found.limit_amount),
        currency=found.currency,
        updated_at=found.updated_at,
        updated_by=found.updated_by,
    )


@router.get("/{fleet_id}/approval-policy", response_model=ApprovalPolicyOut, responses=NOT_FOUND)
def get_approval_policy(fleet_id: FleetIdDep, conn: ConnDep) -> ApprovalPolicyOut:
    """The fleet's cost limit; null while it has none (its orders need no approval)."""
    found = approval.get_policy(conn, fleet_id=fleet_id)
    if found is None:
        return ApprovalPolicyOut(
            fleet_id=fleet_id, limit_amount=None, currency=None, updated_at=None, updated_by=None
        )
    return _policy_out(found)


@router.put("/{fleet_id}/approval-policy", response_model=ApprovalPolicyOut, responses=NOT_FOUND)
def put_approval_policy(
    fleet_id: FleetIdDep, body: ApprovalPolicyIn, conn: ConnDep, principal: FleetRoles
) -> ApprovalPolicyOut:
    """Set the fleet's cost limit: orders placed from now on whose estimate is at or under it
    are approved automatically; above it, in another currency or without a price they wait
    for `POST /service-orders/{id}/approve` or `/reject`. Decisions taken stand."""
    found = approval.set_policy(
        conn,
        fleet_id=fleet_id,
        limit_amount=Decimal(str(body.limit_amount)).quantize(Decimal("0.01")),
        currency=body.currency,
        actor=principal.subject,
        now=now(),
    )
    return _policy_out(found)


@router.get("/{fleet_id}/approvals", response_model=list[ApprovalItem], responses=NOT_FOUND)
def list_approvals(
    fleet_id: FleetIdDep,
    conn: ConnDep,
    days: Annotated[int, Query(ge=1, le=400, description="Decisions of the last days")] = 30,
) -> list[ApprovalItem]:
    """The fleet's orders waiting for approval (oldest first), then those decided or approved
    automatically in the last ``days`` days (newest first)."""
    found = approval.fleet_orders(conn, fleet_id=fleet_id, since=now() - timedelta(days=days))
    return [
        ApprovalItem(
            order_id=w.order_id,
            vehicle_id=w.vehicle_id,
            vin=w.vin,
            issue=w.issue,
            status=w.status,
            approval=w.approval,  # type: ignore[arg-type]  # the table's CHECK matches
            approval_by=w.approval_by,
            approval_at=w.approval_at,
            approval_note=w.approval_note,
            shop_name=w.shop_name,
            estimate=None if w.price is None else float(w.price),
            currency=w.currency,
        )
        for w in found
    ]
