# SPDX-License-Identifier: MIT
"""Routes of the service-orders domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ConnDep, OrderIdDep, PrincipalDep
from api.orders import service
from api.orders.schemas import OrderOut, OrderPage, OrderStatus
from api.pagination import CursorQuery, LimitQuery
from api.problems import not_found, problem_response

router = APIRouter(prefix="/service-orders", tags=["service orders"])


@router.get("", response_model=OrderPage, responses=problem_response(400))
def list_service_orders(
    conn: ConnDep,
    principal: PrincipalDep,
    status: OrderStatus | None = None,
    vehicle_id: Annotated[int | None, Query(ge=1)] = None,
    shop_id: Annotated[int | None, Query(ge=1)] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> OrderPage:
    """The caller's service orders, newest first, with their shop, issue, evidence and job."""
    return service.list_page(
        conn=conn,
        principal=principal,
        status=status,
        vehicle_id=vehicle_id,
        shop_id=shop_id,
        limit=limit,
        cursor=cursor,
    )


@router.get("/{order_id}", response_model=OrderOut, responses=problem_response(404))
def get_service_order(order_id: OrderIdDep, conn: ConnDep) -> OrderOut:
    """One service order."""
    order = service.get_order(conn=conn, order_id=order_id)
    if order is None:  # deleted between the check and the read
        raise not_found("order", order_id)
    return order
