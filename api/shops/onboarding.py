# SPDX-License-Identifier: MIT
"""Shops joining the platform: created by an admin (verified at once), or applying by
themselves (unverified: not matched to orders until an admin verifies them); the directory
as each role may list it.

Who sees which shops in ``GET /shops``: admins all of them (pending applications too), shop
staff their own shop, owners and fleet managers the verified shops' public cards (the
directory they choose a shop from). A shop's details (``GET /shops/{id}``) keep their own rule
(``api.access.shops``).
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from api import access
from api.auth.principal import Principal
from api.auth.users import UserError, create_user
from api.pagination import decode_cursor, next_cursor
from api.problems import ProblemError, not_found
from api.shops.schemas import ShopApplication, ShopCreate, ShopPage, ShopSummary
from db.rows import record, records, scalar

# A shop's card, named as ShopSummary's fields.
_COLUMNS = sql.SQL(
    "shop_id, name, address, phone, city, country, timezone, lat, lon, capabilities, brands, "
    "currency, rating, rating_count, verified_at IS NOT NULL AS verified, verified_at"
)
_INSERT = (
    "INSERT INTO shops (name, address, phone, city, country, timezone, lat, lon, capabilities, "
    "brands, hours, bays, labour_rate_per_h, currency, verification, verified_at, verified_by) "
    "VALUES (%(name)s, %(address)s, %(phone)s, %(city)s, %(country)s, %(timezone)s, %(lat)s, "
    "%(lon)s, %(capabilities)s, %(brands)s, %(hours)s, %(bays)s, %(labour_rate_per_h)s, "
    "%(currency)s, %(verification)s, %(verified_at)s, %(verified_by)s) RETURNING shop_id"
)


def summary(*, conn: psycopg.Connection, shop_id: int) -> ShopSummary:
    """One shop's card; ProblemError 404 if unknown."""
    query = sql.SQL("SELECT {} FROM shops WHERE shop_id = %s").format(_COLUMNS)
    card = record(conn, ShopSummary, query, (shop_id,))
    if card is None:
        raise not_found("shop", shop_id)
    return card


def _insert(
    conn: psycopg.Connection, body: ShopCreate, *, verified_at: datetime | None, by: int | None
) -> int:
    profile = body.record("verified" if verified_at else "pending")
    params = profile.model_dump() | {"verified_at": verified_at, "verified_by": by}
    params["hours"] = Jsonb(params["hours"])
    shop_id = scalar(conn, _INSERT, params)
    assert shop_id is not None
    for job_code, price in profile.prices.items():
        conn.execute(
            "INSERT INTO shop_prices (shop_id, job_code, price) VALUES (%s, %s, %s)",
            (shop_id, job_code, price),
        )
    return int(shop_id)


def create_shop(
    *, conn: psycopg.Connection, body: ShopCreate, created_by: int | None, now: datetime
) -> ShopSummary:
    """A shop the operator vouches for: verified from the start."""
    with conn.transaction():
        shop_id = _insert(conn, body, verified_at=now, by=created_by)
    return summary(conn=conn, shop_id=shop_id)


def apply(*, conn: psycopg.Connection, body: ShopApplication) -> tuple[ShopSummary, int]:
    """A shop applying by itself, and its applicant as the shop's staff: (shop, user id).

    The shop waits, unverified, until an admin verifies it; its staff may sign in meanwhile.
    """
    profile = ShopCreate.model_validate(body.model_dump(exclude={"contact_email", "password"}))
    with conn.transaction():
        shop_id = _insert(conn, profile, verified_at=None, by=None)
        try:
            user_id = create_user(
                conn=conn,
                email=body.contact_email,
                role="shop_staff",
                password=body.password,
                shop_id=shop_id,
            )
        except UserError as exc:
            raise ProblemError(
                409,
                "user-exists",
                "Email taken",
                f"{exc}. Apply with another contact email, or sign in and ask an admin to add "
                "the shop.",
            ) from exc
    return summary(conn=conn, shop_id=shop_id), user_id


def verify(*, conn: psycopg.Connection, shop_id: int, by: int | None, now: datetime) -> ShopSummary:
    """Verify a shop (idempotent: the first verification's time and admin are kept); a
    rejected application verified after all loses its rejection."""
    verified = scalar(
        conn,
        "UPDATE shops SET verification = 'verified', verified_at = COALESCE(verified_at, %s), "
        "verified_by = CASE WHEN verified_at IS NULL THEN %s ELSE verified_by END, "
        "rejected_at = NULL, rejected_by = NULL, rejection_reason = NULL "
        "WHERE shop_id = %s RETURNING shop_id",
        (now, by, shop_id),
    )
    if verified is None:
        raise not_found("shop", shop_id)
    return summary(conn=conn, shop_id=shop_id)


REJECTION_MAX = 500  # characters of a rejection's reason (revision 0023's check)


def reject(
    *, conn: psycopg.Connection, shop_id: int, by: int | None, reason: str, now: datetime
) -> ShopSummary:
    """Turn a shop's application down with ``reason`` (told to its applicant).

    Only a shop not verified yet: ProblemError 409 for a verified one (matching already offers
    it orders; taking that back is a suspension, not a rejection), 422 for an empty or too long
    reason, 404 for an unknown shop. Rejecting again replaces the reason.
    """
    reason = reason.strip()
    if not reason or len(reason) > REJECTION_MAX:
        raise ProblemError(
            422,
            "rejection-reason",
            "Reason needed",
            f"Say why the shop is rejected, in 1 to {REJECTION_MAX} characters.",
        )
    rejected = scalar(
        conn,
        "UPDATE shops SET verification = 'rejected', rejected_at = %s, rejected_by = %s, "
        "rejection_reason = %s WHERE shop_id = %s AND verified_at IS NULL RETURNING shop_id",
        (now, by, reason, shop_id),
    )
    if rejected is None:
        summary(conn=conn, shop_id=shop_id)  # 404 when there is no such shop
        raise ProblemError(
            409, "shop-verified", "Shop is verified", f"Shop {shop_id} is verified already."
        )
    return summary(conn=conn, shop_id=shop_id)


def ask_again(*, conn: psycopg.Connection, shop_id: int) -> bool:
    """A rejected application back in the admins' queue (its staff corrected the profile):
    the rejection and its reason are cleared, so it waits as when it applied. False when the
    shop is not rejected (waiting already, or verified): nothing changes."""
    again = scalar(
        conn,
        "UPDATE shops SET verification = 'pending', rejected_at = NULL, rejected_by = NULL, "
        "rejection_reason = NULL WHERE shop_id = %s AND rejected_at IS NOT NULL "
        "AND verified_at IS NULL RETURNING shop_id",
        (shop_id,),
    )
    return again is not None


def list_page(
    *,
    conn: psycopg.Connection,
    principal: Principal,
    limit: int,
    cursor: str | None,
    verified: bool | None = None,
    city: str | None = None,
    capability: str | None = None,
) -> ShopPage:
    """One page of the shops the caller may list, by id."""
    where, params = access.listed_shops(principal)
    query = sql.SQL(
        "SELECT {columns} FROM shops s WHERE {where} "
        # Waiting (verified=false) leaves out the applications an admin rejected.
        "AND (%(verified)s::boolean IS NULL OR (verified_at IS NOT NULL) = %(verified)s "
        "AND (%(verified)s OR rejected_at IS NULL)) "
        "AND (%(city)s::text IS NULL OR lower(city) = lower(%(city)s)) "
        "AND (%(cap)s::text IS NULL OR %(cap)s = ANY(capabilities)) "
        "AND (%(after)s::bigint IS NULL OR shop_id > %(after)s) "
        "ORDER BY shop_id LIMIT %(limit)s"
    ).format(columns=_COLUMNS, where=where)
    rows = records(
        conn,
        ShopSummary,
        query,
        {
            **params,
            "verified": verified,
            "city": city,
            "cap": capability,
            "after": decode_cursor(cursor),
            "limit": limit + 1,
        },
    )
    return ShopPage(
        items=rows[:limit],
        next_cursor=next_cursor([r.shop_id for r in rows], limit),
    )
