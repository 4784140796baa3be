# SPDX-License-Identifier: MIT
"""A shop's own profile, as its staff keep it: address, hours, bays, capabilities, brands,
labour rate, price list and currency; and the staff themselves (read-only: shop staff have one
role, and accounts are invited by an admin).

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

from api.shops.schemas import ShopCreate
from db.rows import records
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
                    "disabled": False,
                    "created_at": "2026-11-20T10:00:00Z",
                }
            ]
        }
    )

    user_id: int
    email: str
    role: str
    disabled: bool
    created_at: datetime


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
        "SELECT user_id, email, role, disabled, created_at FROM users "
        "WHERE shop_id = %s AND role = 'shop_staff' ORDER BY created_at, user_id",
        (shop_id,),
    )
