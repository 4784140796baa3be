# SPDX-License-Identifier: MIT
"""Routes of the alerts domain: dismissing an alert with a reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field

from api import access
from api.auth.principal import Principal
from api.deps import ConnDep, require_roles
from api.orders.actions import now, order_problems
from api.orders.schemas import DismissIn
from api.problems import not_found, problem_response
from db.rows import scalar
from orders import rebook

router = APIRouter(prefix="/alerts", tags=["alerts"])

# The car's side decides about its alerts: its owner, its fleet's manager, admins.
VehicleSide = Annotated[Principal, Depends(require_roles("owner", "fleet_manager"))]


class DismissedOut(BaseModel):
    """A dismissed alert and the orders its dismissal cancelled."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "alert_id": 3,
                    "status": "resolved",
                    "dismissed_reason": "pads replaced at a garage abroad",
                    "cancelled_orders": [12],
                }
            ]
        }
    )

    alert_id: int
    status: str = Field(description="Always `resolved`")
    dismissed_reason: str
    cancelled_orders: list[int]


def valid_alert_id(
    alert_id: Annotated[int, Path(ge=1, description="Alert id")],
    conn: ConnDep,
    principal: VehicleSide,
) -> int:
    """The path's alert id, if the caller may see its vehicle (else 404, as if missing)."""
    where, params = access.vehicles(principal)
    query = sql.SQL(
        "SELECT 1 FROM alerts a JOIN vehicles v USING (vehicle_id) WHERE a.alert_id = %(id)s AND {}"
    ).format(where)
    if scalar(conn, query, {"id": alert_id, **params}) is None:
        raise not_found("alert", alert_id)
    return alert_id


AlertIdDep = Annotated[int, Depends(valid_alert_id)]


@router.post(
    "/{alert_id}/dismiss",
    response_model=DismissedOut,
    responses=problem_response(403) | problem_response(404) | problem_response(409),
)
def dismiss_alert(
    conn: ConnDep, principal: VehicleSide, alert_id: AlertIdDep, body: DismissIn
) -> DismissedOut:
    """Resolve the alert without a service, saying why; its open order is cancelled. 409 when
    the alert is resolved already or the car is being serviced."""
    with order_problems():
        cancelled = rebook.dismiss_alert(
            conn=conn, alert_id=alert_id, now=now(), actor=principal.subject, reason=body.reason
        )
    return DismissedOut(
        alert_id=alert_id,
        status="resolved",
        dismissed_reason=body.reason,
        cancelled_orders=cancelled,
    )
