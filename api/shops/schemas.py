# SPDX-License-Identifier: MIT
"""Response models of the shops domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ShopOut(BaseModel):
    """A shop of the directory with its statistics."""

    shop_id: int
    name: str
    city: str | None
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
