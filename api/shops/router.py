# SPDX-License-Identifier: MIT
"""Routes of the shops domain."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth.principal import Principal
from api.deps import ConnDep, ShopIdDep, require_roles
from api.orders.actions import now
from api.pagination import LimitQuery
from api.problems import ProblemError, problem_response
from api.shops import service
from api.shops.schemas import PendingOffer, ShopOut, SlotOut

router = APIRouter(prefix="/shops", tags=["shops"])

# A shop's inbox is for its own staff (``ShopIdDep`` shows shop staff only their shop).
ShopStaff = Annotated[Principal, Depends(require_roles("shop_staff"))]


@router.get("/{shop_id}", response_model=ShopOut, responses=problem_response(404))
def get_shop(conn: ConnDep, shop_id: ShopIdDep) -> ShopOut:
    """A shop with its rating, punctuality, response time and owners' recommendations."""
    return service.shop(conn=conn, shop_id=shop_id)


@router.get(
    "/{shop_id}/offers",
    response_model=list[PendingOffer],
    responses=problem_response(403) | problem_response(404),
)
def shop_offers(conn: ConnDep, principal: ShopStaff, shop_id: ShopIdDep) -> list[PendingOffer]:
    """Orders offered to the shop and awaiting its answer: vehicle, issue, evidence, job,
    parts, due date and estimate; answer with `POST /service-orders/{id}/offers/{offer_id}/…`."""
    service.shop(conn=conn, shop_id=shop_id)  # 404 for an unknown shop
    return service.pending_offers(conn=conn, shop_id=shop_id, now=now())


@router.get(
    "/{shop_id}/slots",
    response_model=list[SlotOut],
    responses=problem_response(400) | problem_response(404),
)
def shop_slots(
    conn: ConnDep,
    shop_id: ShopIdDep,
    start: Annotated[datetime | None, Query(description="Default: now")] = None,
    days: Annotated[int, Query(ge=1, le=60, description="How far ahead to look")] = 14,
    limit: LimitQuery = 100,
) -> list[SlotOut]:
    """The shop's free booking slots, earliest first."""
    start = start or now()
    if start.tzinfo is None:
        raise ProblemError(400, "naive-time", "Times need a zone", "Give start with a UTC offset.")
    return service.free_slots(
        conn=conn, shop_id=shop_id, start=start, end=start + timedelta(days=days), limit=limit
    )
