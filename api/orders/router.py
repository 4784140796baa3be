# SPDX-License-Identifier: MIT
"""Routes of the service-orders domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ConnDep, PrincipalDep
from api.orders import service
from api.orders.schemas import OrderPage, OrderStatus
from api.problems import problem_response

router = APIRouter(prefix="/service-orders", tags=["service orders"])

MAX_PAGE = 200


@router.get("", response_model=OrderPage, responses=problem_response(400))
def list_service_orders(
    conn: ConnDep,
    principal: PrincipalDep,
    status: OrderStatus | None = None,
    vehicle_id: Annotated[int | None, Query(ge=1)] = None,
    shop_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> OrderPage:
    """Service orders, newest first, with their shop, issue, evidence, job and parts."""
    return service.list_page(
        conn=conn, status=status, vehicle_id=vehicle_id, shop_id=shop_id, limit=limit, cursor=cursor
    )
