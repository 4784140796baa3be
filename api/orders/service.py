# SPDX-License-Identifier: MIT
"""Service orders for the API: the caller's orders, filtered, one keyset page at a time.

Shop staff read an order as their job needs it (``shop_view``): never another shop's name,
score, price, offer or steps, which the matcher and the placement record beside theirs.
"""

from __future__ import annotations

from typing import Any, TypeVar

import psycopg
from psycopg import sql

import orders
import orders.service
from api import access
from api.auth.principal import Principal
from api.orders.schemas import (
    Appointment,
    Approval,
    EventOut,
    JobOut,
    OfferOut,
    OrderDetail,
    OrderOut,
    OrderPage,
    PartOut,
    ShopRef,
)
from api.pagination import decode_cursor, next_cursor
from db.rows import record, records
from orders.service import ORDER_SELECT

# The orders package's own filters, plus the caller's visibility from api.access.
_FILTERS = sql.SQL(
    "AND (%(status)s::text IS NULL OR o.status = %(status)s) "
    "AND (%(vehicle_id)s::bigint IS NULL OR o.vehicle_id = %(vehicle_id)s) "
    "AND (%(shop_id)s::bigint IS NULL OR o.shop_id = %(shop_id)s) "
    "AND (%(after_id)s::bigint IS NULL OR o.order_id < %(after_id)s) "
)


_O = TypeVar("_O", bound=OrderOut)
# What a shop keeps of its own entry in the ranking: who it is and its own figures. The
# criteria, total and rank are relative to the other candidates (the price criterion is the
# cheapest rival's price over theirs), so they are not.
_OWN_ENTRY = ("shop_id", "name", "inputs", "weights")


def _own_match(match: dict[str, Any] | None, shop_id: int | None) -> dict[str, Any] | None:
    if match is None:
        return None
    mine = [
        {k: r[k] for k in _OWN_ENTRY if k in r}
        for r in match.get("ranked", [])
        if r.get("shop_id") == shop_id
    ]
    return {**match, "ranked": mine}


def _own_estimate(match: dict[str, Any] | None) -> dict[str, Any] | None:
    """The shop's own price for the jobs (the stored estimate is the best-ranked shop's)."""
    ranked = (match or {}).get("ranked") or [{}]
    inputs = ranked[0].get("inputs") or {}
    if inputs.get("price") is None:
        return None
    jobs = ((match or {}).get("request") or {}).get("jobs") or []
    return {"total": inputs["price"], "currency": inputs.get("currency"), "jobs": jobs}


def _names_shops(event: EventOut) -> bool:
    # An offer wave's note lists the shops asked, the owner's consent the shop they chose.
    return event.kind == "consent" or (event.kind == "transition" and event.status == "offered")


def shop_view(out: _O, principal: Principal) -> _O:
    """``out`` as ``principal`` may read it: shop staff see their own entry of the ranking,
    their own price, offers and steps, and the order's shop only when it is theirs (before
    acceptance it is the matcher's provisional pick, maybe a rival); anyone else all of it."""
    if principal.role != "shop_staff":
        return out
    shop_id = principal.shop_id
    mine = out.shop is not None and out.shop.shop_id == shop_id
    match = _own_match(out.match, shop_id)
    update: dict[str, Any] = {
        "match": match,
        "estimate": None if match is None else _own_estimate(match),
        "shop": out.shop if mine else None,
        "appointment": out.appointment if mine else None,
    }
    if isinstance(out, OrderDetail):
        update["offers"] = [f for f in out.offers if f.shop_id == shop_id]
        update["events"] = [
            e.model_copy(update={"note": None}) if _names_shops(e) else e
            for e in out.events
            if e.shop_id in (None, shop_id)
            and (not e.actor.startswith("shop:") or e.actor == f"shop:{shop_id}")
        ]
    return out.model_copy(update=update)


def _out(order: orders.Order) -> OrderOut:
    shop = None
    if order.shop_id is not None:
        shop = ShopRef(
            shop_id=order.shop_id, name=order.shop_name or "", distance_km=order.distance_km
        )
    return OrderOut(
        order_id=order.order_id,
        vehicle_id=order.vehicle_id,
        alert_id=order.alert_id,
        status=order.status,  # type: ignore[arg-type]  # the table's CHECK matches the Literal
        vin=order.vin,
        odometer_km=order.odometer_km,
        issue=order.issue,
        evidence=order.evidence,
        job=JobOut(code=order.job_code, description=order.job_description),
        parts=[PartOut(**p) for p in order.parts],
        shop=shop,
        created_at=order.created_at,
        updated_at=order.updated_at,
        component=order.component,
        urgency=order.urgency,
        due_by=order.due_by,
        bundle_id=order.bundle_id,
        match=order.match,
        estimate=order.estimate,
        dispatch_mode=order.dispatch_mode,  # type: ignore[arg-type]  # CHECK matches Literal
        consent=order.consent,  # type: ignore[arg-type]  # CHECK matches Literal
        escalated=order.escalated,
        appointment=_appointment(order),
        approval=_approval(order),
    )


def _approval(order: orders.Order) -> Approval | None:
    if order.approval is None:
        return None
    return Approval(
        state=order.approval,  # type: ignore[arg-type]  # the table's CHECK matches the Literal
        by=order.approval_by,
        at=order.approval_at,
        note=order.approval_note,
    )


def _appointment(order: orders.Order) -> Appointment | None:
    starts, ends = order.appointment_starts_at, order.appointment_ends_at
    if starts is None or ends is None or order.shop_id is None:
        return None
    return Appointment(
        starts_at=starts,
        ends_at=ends,
        duration_h=(ends - starts).total_seconds() / 3600,
        shop_id=order.shop_id,
        bay=order.appointment_bay,
    )


def detail(*, conn: psycopg.Connection, order_id: int, principal: Principal) -> OrderDetail:
    """An order with its offers and its history, as ``principal`` may read it (``shop_view``)."""
    order = orders.service.get_order(conn=conn, order_id=order_id)
    offers = records(
        conn,
        OfferOut,
        "SELECT offer_id, shop_id, mode, offered_at, expires_at, response FROM service_offers "
        "WHERE order_id = %s ORDER BY offer_id",
        (order_id,),
    )
    events = records(
        conn,
        EventOut,
        "SELECT at, kind, from_status, status, actor, note, shop_id FROM service_order_events "
        "WHERE order_id = %s ORDER BY at, id",
        (order_id,),
    )
    full = OrderDetail(**_out(order).model_dump(), offers=offers, events=events)
    return shop_view(full, principal)


def list_page(
    *,
    conn: psycopg.Connection,
    principal: Principal,
    status: str | None,
    vehicle_id: int | None,
    shop_id: int | None,
    limit: int,
    cursor: str | None,
) -> OrderPage:
    """One page of the orders the caller may see, newest first, and the next page's cursor."""
    if principal.role == "shop_staff" and shop_id not in (None, principal.shop_id):
        # A shop sees no other shop on its orders (``shop_view``), so filtering by one must not
        # tell which of its offers another shop provisionally holds.
        return OrderPage(items=[], next_cursor=None)
    where, params = access.orders(principal)
    # One extra row tells whether another page exists without a count query.
    query = (
        ORDER_SELECT
        + sql.SQL("WHERE {} ").format(where)
        + _FILTERS
        + sql.SQL("ORDER BY o.order_id DESC LIMIT %(limit)s")
    )
    found = records(
        conn,
        orders.Order,
        query,
        {
            **params,
            "status": status,
            "vehicle_id": vehicle_id,
            "shop_id": shop_id,
            "after_id": decode_cursor(cursor),
            "limit": limit + 1,
        },
    )
    return OrderPage(
        items=[shop_view(_out(o), principal) for o in found[:limit]],
        next_cursor=next_cursor([o.order_id for o in found], limit),
    )


def get_order(*, conn: psycopg.Connection, order_id: int, principal: Principal) -> OrderOut | None:
    """One order by id as ``principal`` may read it (visibility checked by ``valid_order_id``)."""
    order = record(conn, orders.Order, ORDER_SELECT + sql.SQL("WHERE o.order_id = %s"), (order_id,))
    return None if order is None else shop_view(_out(order), principal)
