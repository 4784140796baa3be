# SPDX-License-Identifier: MIT
"""Request and response models of the shops domain."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.auth.schemas import EMAIL_PATTERN, PASSWORD_MIN
from api.figures import Coordinate, Estimate, Hours, InCurrency, Km, Money, Score, Seconds, Share
from orders.directory import Capability, ShopRecord, Verification


class PriceOut(BaseModel):
    """A job on the shop's price list."""

    job_code: str
    price: Money
    labour_h: Hours | None


class ShopOut(InCurrency):
    """A shop of the directory: profile, hours, capabilities, prices and statistics."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "shop_id": 17,
                    "name": "Oak Park Auto Service 3",
                    "address": "112 Lake St",
                    "phone": "+1 555-0103",
                    "city": "Oak Park",
                    "timezone": "America/Chicago",
                    "hours": {"mon": [["07:30", "18:00"]], "sat": [["09:00", "13:00"]], "sun": []},
                    "labour_rate_per_h": 84.0,
                    "currency": "EUR",
                    "lat": 41.885,
                    "lon": -87.784,
                    "capabilities": ["oil_change", "brake_pads", "diagnostics"],
                    "brands": ["Ford"],
                    "bays": 4,
                    "verification": "verified",
                    "rating": 4.6,
                    "rating_count": 212,
                    "on_time_rate": 0.94,
                    "jobs_completed": 388,
                    "response_median_s": 180.0,
                    "survey_mean": 8.7,
                    "survey_count": 61,
                    "prices": [{"job_code": "OIL-CHG", "price": 89.0, "labour_h": 0.5}],
                }
            ]
        }
    )

    shop_id: int
    name: str
    address: str | None
    phone: str | None
    city: str | None
    timezone: str
    hours: dict[str, Any] = Field(description="Opening hours per weekday, local time")
    labour_rate_per_h: Money
    currency: str
    lat: Coordinate
    lon: Coordinate
    capabilities: list[str]
    brands: list[str]
    bays: int
    verification: str
    rating: Score | None
    rating_count: int
    on_time_rate: Share | None = Field(description="Share of completed jobs done in their slot")
    jobs_completed: int
    response_median_s: Seconds | None = Field(description="Median time to answer an offer")
    survey_mean: Score | None = Field(description="Owners' mean recommendation, 0-10")
    survey_count: int
    prices: list[PriceOut] = Field(default_factory=list, description="The price list per job")


class SlotOut(BaseModel):
    """A free booking slot of one bay."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "slot_id": 812,
                    "bay": 2,
                    "starts_at": "2026-11-24T08:00:00Z",
                    "ends_at": "2026-11-24T10:00:00Z",
                }
            ]
        }
    )

    slot_id: int
    bay: int
    starts_at: datetime
    ends_at: datetime


class PendingOffer(BaseModel):
    """An order offered to the shop, waiting for its answer: a pre-diagnosed booking."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "offer_id": 301,
                    "order_id": 88,
                    "expires_at": "2026-11-21T08:21:00Z",
                    "vin": "WVWZZZ1JZXW000001",
                    "odometer_km": 48213.4,
                    "issue": "Oil life 14 %, about 600 km left",
                    "job_code": "OIL-CHG",
                    "job_description": "Engine oil and filter change",
                    "parts": [{"part": "engine oil 5W-30", "quantity": 4.5, "unit": "l"}],
                    "evidence": {"current": {"oil_life_pct": 14.2}},
                    "due_by": "2026-12-05T00:00:00Z",
                    "estimate": {"total": 89.0, "currency": "EUR", "jobs": ["OIL-CHG"]},
                }
            ]
        }
    )

    offer_id: int
    order_id: int
    expires_at: datetime
    vin: str
    odometer_km: Km | None
    issue: str
    job_code: str
    job_description: str
    parts: list[dict[str, Any]]
    evidence: dict[str, Any]
    due_by: datetime | None
    estimate: Estimate | None


class ShopCreate(BaseModel):
    """A shop's profile, as an admin creates it or a shop applies with it."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Oak Park Auto Service",
                    "address": "112 Lake St",
                    "phone": "+1 555-0103",
                    "city": "Oak Park",
                    "country": "US",
                    "timezone": "America/Chicago",
                    "lat": 41.885,
                    "lon": -87.784,
                    "capabilities": ["oil_change", "brake_pads"],
                    "hours": {"mon": [["07:30", "18:00"]]},
                    "currency": "USD",
                    "prices": {"OIL-CHG": "89.00"},
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(None, max_length=300)
    phone: str | None = Field(None, max_length=40)
    city: str | None = Field(None, max_length=100)
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    timezone: str = "UTC"
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    capabilities: list[Capability] = Field(min_length=1)
    brands: list[str] = Field(default_factory=list, max_length=50)
    hours: dict[str, list[list[str]]] = Field(
        default_factory=dict, description="Opening hours per weekday, local time"
    )
    bays: int = Field(2, ge=1, le=100)
    labour_rate_per_h: Decimal = Field(Decimal(90), gt=0, max_digits=8, decimal_places=2)
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    prices: dict[str, Decimal] = Field(
        default_factory=dict, description="Price per job code of the catalogue"
    )

    @model_validator(mode="after")
    def _directory_checks(self) -> ShopCreate:
        # The import's checks of hours, time zone and prices, so both ways in agree.
        try:
            self.record("verified")
        except ValidationError as exc:
            raise ValueError("; ".join(str(e["msg"]) for e in exc.errors())) from None
        return self

    def record(self, verification: Verification) -> ShopRecord:
        """The directory record of this profile (its checks of hours, zone and prices run)."""
        return ShopRecord.model_validate(
            {
                "ref": "-",
                **self.model_dump(include=set(ShopCreate.model_fields)),
                "verification": verification,
            }
        )


class ShopApplication(ShopCreate):
    """A shop applying by itself: its profile and the account of the person applying."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Oak Park Auto Service",
                    "city": "Oak Park",
                    "country": "US",
                    "timezone": "America/Chicago",
                    "lat": 41.885,
                    "lon": -87.784,
                    "capabilities": ["oil_change", "brake_pads"],
                    "currency": "USD",
                    "contact_email": "sam@oakparkauto.example",
                    "password": "a long passphrase",
                }
            ]
        }
    )

    contact_email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=PASSWORD_MIN, max_length=200)


_CARD: dict[str, Any] = {
    "shop_id": 17,
    "name": "Oak Park Auto Service 3",
    "address": "112 Lake St",
    "phone": "+1 555-0103",
    "city": "Oak Park",
    "country": "US",
    "timezone": "America/Chicago",
    "lat": 41.885,
    "lon": -87.784,
    "capabilities": ["oil_change", "brake_pads"],
    "brands": ["Ford"],
    "currency": "USD",
    "rating": 4.6,
    "rating_count": 212,
    "verified": True,
    "verified_at": "2026-11-20T10:00:00Z",
}


class ShopSummary(BaseModel):
    """A shop of the directory as lists show it: its public card and whether it is verified."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CARD]})

    shop_id: int
    name: str
    address: str | None
    phone: str | None
    city: str | None
    country: str | None
    timezone: str
    lat: float
    lon: float
    capabilities: list[str]
    brands: list[str]
    currency: str
    rating: float | None
    rating_count: int
    verified: bool = Field(description="Verified shops are offered orders; others wait")
    verified_at: datetime | None


class ShopPage(BaseModel):
    """One page of shops, by id."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_CARD], "next_cursor": "eyJhZnRlcl9pZCI6IDE3fQ"}]
        }
    )

    items: list[ShopSummary]
    next_cursor: str | None


class ShopApplied(BaseModel):
    """A shop that applied: it waits for an admin's verification before it gets orders."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"shop": _CARD | {"verified": False, "verified_at": None}, "user_id": 12}]
        }
    )

    shop: ShopSummary
    user_id: int = Field(description="The applicant's account (shop staff of the new shop)")
