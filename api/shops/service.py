# SPDX-License-Identifier: MIT
"""Reading shops and their pending offers for the API."""

from __future__ import annotations

from datetime import datetime

import psycopg

from api.problems import ProblemError
from api.shops.schemas import PendingOffer, ShopOut


def shop(*, conn: psycopg.Connection, shop_id: int) -> ShopOut:
    """One shop; ProblemError 404 if unknown."""
    cols = list(ShopOut.model_fields)
    row = conn.execute(
        f"SELECT {', '.join(cols)} FROM shops WHERE shop_id = %s", (shop_id,)
    ).fetchone()
    if row is None:
        raise ProblemError(404, "shop-not-found", "Shop not found", f"No shop with id {shop_id}.")
    return ShopOut(**dict(zip(cols, row, strict=True)))


def pending_offers(*, conn: psycopg.Connection, shop_id: int, now: datetime) -> list[PendingOffer]:
    """Offers to the shop still open at ``now``, the soonest to expire first."""
    rows = conn.execute(
        "SELECT f.offer_id, f.order_id, f.expires_at, o.vin, o.odometer_km, o.issue, o.job_code, "
        "o.job_description, o.parts, o.evidence, o.due_by, o.estimate "
        "FROM service_offers f JOIN service_orders o USING (order_id) "
        "WHERE f.shop_id = %s AND f.response IS NULL AND f.expires_at > %s "
        "ORDER BY f.expires_at, f.offer_id",
        (shop_id, now),
    ).fetchall()
    return [PendingOffer(**dict(zip(PendingOffer.model_fields, r, strict=True))) for r in rows]
