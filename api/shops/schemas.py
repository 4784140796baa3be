# SPDX-License-Identifier: MIT
"""Response models of the shops domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class PriceOut(BaseModel):
    """A job on the shop's price list."""

    job_code: str
    price: float
    labour_h: float | None


class ShopOut(BaseModel):
    """A shop of the directory: profile, hours, capabilities, prices and statistics."""

    shop_id: int
    name: str
    address: str | None
    phone: str | None
    city: str | None
    timezone: str
    hours: dict[str, Any] = Field(description="Opening hours per weekday, local time")
    labour_rate_per_h: float
    currency: str
    lat: float
    lon: float
    capabilities: list[str]
    brands: list[str]
    bays: int
    verification: str
    rating: float | None
    rating_count: int
    on_time_rate: float | None = Field(description="Share of completed jobs done in their slot")
    jobs_completed: int
    response_median_s: float | None = Field(description="Median time to answer an offer")
    survey_mean: float | None = Field(description="Owners' mean recommendation, 0-10")
    survey_count: int
    prices: list[PriceOut] = Field(default_factory=list, description="The price list per job")


class SlotOut(BaseModel):
    """A free booking slot of one bay."""

    slot_id: int
    bay: int
    starts_at: datetime
    ends_at: datetime


class PendingOffer(BaseModel):
    """An order offered to the shop, waiting for its answer: a pre-diagnosed booking."""

    offer_id: int
    order_id: int
    expires_at: datetime
    vin: str
    odometer_km: float | None
    issue: str
    job_code: str
    job_description: str
    parts: list[dict[str, Any]]
    evidence: dict[str, Any]
    due_by: datetime | None
    estimate: dict[str, Any] | None
