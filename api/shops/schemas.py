# SPDX-License-Identifier: MIT
"""Response models of the shops domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.figures import Coordinate, Estimate, Hours, InCurrency, Km, Money, Score, Seconds, Share


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
