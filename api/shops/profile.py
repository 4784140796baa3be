# SPDX-License-Identifier: MIT
"""A shop's own profile, as its staff keep it: address, hours, bays, capabilities, brands,
labour rate, price list and currency; and the staff themselves with their shop roles.

Only the shop's managers (and admins) change the profile or a colleague's role
(``require_keeper``); technicians read it. A role change never leaves the shop without an
enabled manager. Accounts are invited by an admin (``POST /auth/invitations``).

Editing validates with the directory's own checks (``ShopCreate``'s, so hours, currency and
prices mean the same whichever way they come in), writes the shop row and its price list in
one transaction, and makes the shop's free future slots anew from the new hours and bays
(``orders.slots.fit_slots``); booked slots stay, so no visit is lost by an edit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.auth.principal import Principal, ShopRole
from api.problems import ProblemError
from api.shops.schemas import ShopCreate
from db.rows import a_dict, records, scalar
from orders.directory import Capability
from orders.placement import CAPABILITY_OF_JOB
from orders.slots import fit_slots

SLOT_DAYS = 14  # how far ahead slots are made after an edit, as `wrenchlight shops demo`


class ProfileUpdate(BaseModel):
    """The parts of a shop's profile its staff may change (name, place and verification are
    the platform's)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "address": "112 Lake St",
                    "phone": "+1 555-0103",
                    "city": "Oak Park",
                    "hours": {"mon": [["07:30", "12:00"], ["13:00", "18:00"]], "sat": []},
                    "bays": 4,
                    "capabilities": ["oil_change", "brake_pads"],
                    "brands": ["Ford"],
                    "labour_rate_per_h": "84.00",
                    "currency": "USD",
                    "prices": {"OIL-CHG": "89.00", "BRK-PAD-F": "189.00"},
                }
            ]
        },
    )

    address: str | None = Field(None, max_length=300)
    phone: str | None = Field(None, max_length=40)
    city: str | None = Field(None, max_length=100)
    hours: dict[str, list[list[str]]] = Field(default_factory=dict)
    bays: int = Field(ge=1, le=100)
    capabilities: list[Capability] = Field(min_length=1)
    brands: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=50
    )
    labour_rate_per_h: Decimal = Field(gt=0, max_digits=8, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    prices: dict[str, Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]] = Field(
        default_factory=dict
    )

    @field_validator("prices")
    @classmethod
    def _known_jobs(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        unknown = sorted(set(value) - set(CAPABILITY_OF_JOB))
        if unknown:
            raise ValueError(f"unknown job code(s) {', '.join(unknown)}")
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        # The directory's checks of hours (days, HH:MM, opening before closing).
        try:
            probe = ShopCreate(name="-", lat=0, lon=0, capabilities=["diagnostics"], hours=value)
        except ValidationError as exc:
            raise ValueError("; ".join(str(e["msg"]) for e in exc.errors())) from None
        return probe.record("verified").hours  # every weekday, an empty list when closed


class StaffMember(BaseModel):
    """One account of the shop's staff."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": 12,
                    "email": "sam@oakparkauto.example",
                    "role": "shop_staff",
                    "shop_role": "manager",
                    "disabled": False,
                    "created_at": "2026-11-20T10:00:00Z",
                }
            ]
        }
    )

    user_id: int
    email: str
    role: str
    shop_role: ShopRole
    disabled: bool
    created_at: datetime


class StaffRoleUpdate(BaseModel):
    """A staff member's new shop role."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"shop_role": "manager"}]}
    )

    shop_role: ShopRole


def require_keeper(principal: Principal) -> None:
    """ProblemError 403 unless ``principal`` may change the shop's profile and staff roles."""
    if not principal.keeps_shop:
        raise ProblemError(
            403,
            "shop-manager-only",
            "Only the shop's managers",
            "Technicians see the shop's profile and staff but cannot change them; ask one of "
            "the shop's managers.",
        )


def update(*, conn: psycopg.Connection, shop_id: int, body: ProfileUpdate, now: datetime) -> None:
    """Write the shop's profile and price list; fit its free slots to the new hours and bays."""
    with conn.transaction():
        conn.execute(
            "UPDATE shops SET address = %(address)s, phone = %(phone)s, city = %(city)s, "
            "hours = %(hours)s, bays = %(bays)s, capabilities = %(capabilities)s, "
            "brands = %(brands)s, labour_rate_per_h = %(labour_rate_per_h)s, "
            "currency = %(currency)s WHERE shop_id = %(shop_id)s",
            body.model_dump(exclude={"prices", "hours"})
            | {"hours": Jsonb(body.hours), "shop_id": shop_id},
        )
        # Labour hours per job stay as they were for the jobs still listed.
        conn.execute(
            "DELETE FROM shop_prices WHERE shop_id = %s AND NOT job_code = ANY(%s)",
            (shop_id, list(body.prices)),
        )
        for job_code, price in body.prices.items():
            conn.execute(
                "INSERT INTO shop_prices (shop_id, job_code, price) VALUES (%s, %s, %s) "
                "ON CONFLICT (shop_id, job_code) DO UPDATE SET price = EXCLUDED.price",
                (shop_id, job_code, price),
            )
        fit_slots(conn=conn, shop_id=shop_id, start=now, days=SLOT_DAYS)


def staff(*, conn: psycopg.Connection, shop_id: int) -> list[StaffMember]:
    """The shop's staff accounts, oldest first."""
    return records(
        conn,
        StaffMember,
        "SELECT user_id, email, role, shop_role, disabled, created_at FROM users "
        "WHERE shop_id = %s AND role = 'shop_staff' ORDER BY created_at, user_id",
        (shop_id,),
    )


def set_role(
    *, conn: psycopg.Connection, shop_id: int, user_id: int, shop_role: ShopRole
) -> StaffMember:
    """Give one of the shop's staff ``shop_role``; ProblemError 404 when they are not its
    staff, 409 when it would leave the shop without an enabled manager."""
    with conn.transaction():
        # Lock the shop's staff so two managers demoting each other cannot both succeed.
        conn.execute(
            "SELECT user_id FROM users WHERE shop_id = %s AND role = 'shop_staff' "
            "ORDER BY user_id FOR UPDATE",
            (shop_id,),
        )
        found = a_dict(
            conn,
            "SELECT shop_role FROM users WHERE user_id = %s AND shop_id = %s "
            "AND role = 'shop_staff'",
            (user_id, shop_id),
        )
        if found is None:
            raise ProblemError(
                404,
                "not-found",
                "Staff member not found",
                f"The shop has no staff member with user id {user_id}.",
            )
        if shop_role != "manager":
            others = scalar(
                conn,
                "SELECT count(*) FROM users WHERE shop_id = %s AND role = 'shop_staff' "
                "AND shop_role = 'manager' AND NOT disabled AND user_id <> %s",
                (shop_id, user_id),
            )
            if not others:
                raise ProblemError(
                    409,
                    "last-manager",
                    "The shop needs a manager",
                    "This is the shop's only manager: make a colleague manager first, so "
                    "someone can still change the profile and the staff's roles.",
                )
        conn.execute("UPDATE users SET shop_role = %s WHERE user_id = %s", (shop_role, user_id))
    member = records(
        conn,
        StaffMember,
        "SELECT user_id, email, role, shop_role, disabled, created_at FROM users "
        "WHERE user_id = %s",
        (user_id,),
    )
    return member[0]
