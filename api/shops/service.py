# SPDX-License-Identifier: MIT
"""Reading shops and their pending offers for the API."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql

from api.problems import ProblemError
from api.shops.schemas import PendingOffer, PriceOut, ShopOut, SlotOut
from db.rows import a_dict, dicts, records


def shop(*, conn: psycopg.Connection, shop_id: int) -> ShopOut:
    """One shop with its price list; ProblemError 404 if unknown."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in ShopOut.model_fields if c != "prices")
    row = a_dict(conn, sql.SQL("SELECT {} FROM shops WHERE shop_id = %s").format(cols), (shop_id,))
    if row is None:
        raise ProblemError(404, "shop-not-found", "Shop not found", f"No shop with id {shop_id}.")
    prices = dicts(
        conn,
        "SELECT job_code, price, labour_h FROM shop_prices WHERE shop_id = %s ORDER BY job_code",
        (shop_id,),
    )
    return ShopOut(
        **row,
        prices=[PriceOut(**(p | {"price": float(p["price"])})) for p in prices],
    )


def free_slots(
    *, conn: psycopg.Connection, shop_id: int, start: datetime, end: datetime, limit: int
) -> list[SlotOut]:
    """The shop's free slots starting in [start, end), earliest first."""
    return records(
        conn,
        SlotOut,
        "SELECT slot_id, bay, starts_at, ends_at FROM shop_slots WHERE shop_id = %s "
        "AND order_id IS NULL AND starts_at >= %s AND starts_at < %s "
        "ORDER BY starts_at, bay LIMIT %s",
        (shop_id, start, end, limit),
    )


def pending_offers(*, conn: psycopg.Connection, shop_id: int, now: datetime) -> list[PendingOffer]:
    """Offers to the shop still open at ``now``, the soonest to expire first."""
    return records(
        conn,
        PendingOffer,
        "SELECT f.offer_id, f.order_id, f.expires_at, o.vin, o.odometer_km, o.issue, o.job_code, "
        "o.job_description, o.parts, o.evidence, o.due_by, o.estimate "
        "FROM service_offers f JOIN service_orders o USING (order_id) "
        "WHERE f.shop_id = %s AND f.response IS NULL AND f.expires_at > %s "
        "ORDER BY f.expires_at, f.offer_id",
        (shop_id, now),
    )
