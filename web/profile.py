# SPDX-License-Identifier: MIT
"""The shop's profile page: what it shows, and its form read into the API's ``ProfileUpdate``.

The profile is ``GET /shops/{id}``'s (``api.shops.service.shop``) for the caller's own shop
(shop staff have exactly one; there is no shop in the address to change), its staff
``api.shops.profile.staff``. The form is read field by field, so each mistake is named next
to its field (a ``why`` key the template puts in plain words) and what was typed is shown
again; only a form without mistakes reaches ``api.shops.profile.update``, whose own checks
(the directory's) run once more.

Opening hours are a line per weekday, ``08:00-12:00, 13:00-18:00`` (empty: closed); brands
are separated by commas; the price list is rows of job and price, blank rows ignored, so the
form works without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import get_args

import psycopg
from pydantic import ValidationError

from api.shops import profile as service
from api.shops.schemas import ShopOut
from api.shops.service import shop as shop_profile
from orders.directory import DAYS, Capability
from orders.placement import CAPABILITY_OF_JOB

CAPABILITIES: tuple[str, ...] = get_args(Capability)
JOBS: tuple[str, ...] = tuple(sorted(CAPABILITY_OF_JOB))
BLANK_ROWS = 2  # empty price rows offered below the list
ROWS_MAX = 20  # price rows read from one form
TEXT_MAX = {"address": 300, "phone": 40, "city": 100}
_SPAN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass
class ProfileForm:
    """The profile form as typed, and each field's mistake (``why``, put in words by the
    template)."""

    values: dict[str, str] = field(default_factory=dict)
    capabilities: set[str] = field(default_factory=set)
    prices: list[tuple[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def price_rows(self) -> list[tuple[str, str]]:
        """The price rows to show: those typed, and blank ones to add a job."""
        return self.prices + [("", "")] * BLANK_ROWS


@dataclass(frozen=True)
class Profile:
    """The shop as its profile page shows it."""

    shop: ShopOut
    staff: list[service.StaffMember]


def profile(*, conn: psycopg.Connection, shop_id: int) -> Profile:
    """The shop and its staff."""
    return Profile(
        shop_profile(conn=conn, shop_id=shop_id), service.staff(conn=conn, shop_id=shop_id)
    )


def form_of(shop: ShopOut) -> ProfileForm:
    """The form filled with the shop as it is."""
    values = {
        "address": shop.address or "",
        "phone": shop.phone or "",
        "city": shop.city or "",
        "bays": str(shop.bays),
        "brands": ", ".join(shop.brands),
        "labour_rate": f"{shop.labour_rate_per_h:.2f}",
        "currency": shop.currency,
    }
    for day in DAYS:
        spans = shop.hours.get(day) or []
        values[f"hours_{day}"] = ", ".join(f"{s[0]}-{s[1]}" for s in spans)
    return ProfileForm(
        values=values,
        capabilities=set(shop.capabilities),
        prices=[(p.job_code, f"{p.price:.2f}") for p in shop.prices],
    )


def _hours(text: str) -> list[list[str]] | None:
    """``08:00-12:00, 13:00-18:00`` → [["08:00", "12:00"], ...]; None when not so written."""
    spans = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        opens, sep, closes = (t.strip() for t in part.replace("–", "-").partition("-"))
        if not sep or not _SPAN.match(opens) or not _SPAN.match(closes):
            return None
        spans.append([opens, closes])
    return spans


def _amount(text: str, *, positive: bool) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or (positive and value == 0):
        return None
    if value != value.quantize(Decimal("0.01")) or value >= Decimal("1e8"):
        return None
    return value


def read_form(
    values: Mapping[str, str],
    capabilities: list[str],
    price_jobs: list[str],
    price_amounts: list[str],
) -> tuple[ProfileForm, service.ProfileUpdate | None]:
    """The typed form (text fields, ticked capabilities, price rows as columns) and, when it
    has no mistake, the update it asks for."""
    typed = ProfileForm(
        values=dict(values), capabilities={c for c in capabilities if c in CAPABILITIES}
    )
    errors = typed.errors
    get = typed.values.get
    for name, limit in TEXT_MAX.items():
        if len(get(name, "").strip()) > limit:
            errors[name] = "too_long"
    hours: dict[str, list[list[str]]] = {}
    for day in DAYS:
        spans = _hours(get(f"hours_{day}", ""))
        if spans is None:
            errors[f"hours_{day}"] = "hours"
        elif any(s[0] >= s[1] for s in spans):
            errors[f"hours_{day}"] = "hours_order"
        else:
            hours[day] = spans
    bays = get("bays", "").strip()
    if not bays.isdigit() or not 1 <= int(bays) <= 100:
        errors["bays"] = "bays"
    if not typed.capabilities:
        errors["capabilities"] = "capabilities"
    brands = [b.strip() for b in get("brands", "").split(",") if b.strip()]
    if len(brands) > 50 or any(len(b) > 60 for b in brands):
        errors["brands"] = "brands"
    rate = _amount(get("labour_rate", ""), positive=True)
    if rate is None:
        errors["labour_rate"] = "money"
    currency = get("currency", "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        errors["currency"] = "currency"
    prices: dict[str, Decimal] = {}
    count = min(ROWS_MAX, max(len(price_jobs), len(price_amounts)))
    for i in range(count):
        job = price_jobs[i].strip() if i < len(price_jobs) else ""
        amount = price_amounts[i].strip() if i < len(price_amounts) else ""
        if not job and not amount:
            continue  # a blank row
        row = len(typed.prices)
        typed.prices.append((job, amount))
        if job not in JOBS:
            errors[f"price_{row}"] = "job"
        elif job in prices:
            errors[f"price_{row}"] = "job_twice"
        elif (value := _amount(amount, positive=False)) is None:
            errors[f"price_{row}"] = "price"
        else:
            prices[job] = value
    if errors:
        return typed, None
    assert rate is not None
    try:
        update = service.ProfileUpdate.model_validate(
            {
                "address": get("address", "").strip() or None,
                "phone": get("phone", "").strip() or None,
                "city": get("city", "").strip() or None,
                "hours": hours,
                "bays": int(bays),
                "capabilities": sorted(typed.capabilities),
                "brands": brands,
                "labour_rate_per_h": rate,
                "currency": currency,
                "prices": prices,
            }
        )
    except ValidationError:
        errors["form"] = "invalid"
        return typed, None
    return typed, update
