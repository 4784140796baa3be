# SPDX-License-Identifier: MIT
"""Request and response models of the webhooks routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

EventType = Literal["alert.raised", "order.created", "order.status_changed"]


class SubscriptionIn(BaseModel):
    """A receiver and the events it wants."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://fleet.example.com/hooks/wrenchlight",
                    "event_types": ["alert.raised", "order.status_changed"],
                    "description": "maintenance planner",
                }
            ]
        },
    )

    url: HttpUrl = Field(description="Where to POST the events (http or https)")
    event_types: list[EventType] = Field(min_length=1)
    description: str | None = Field(None, max_length=200)
    fleet_id: int | None = Field(None, ge=1, description="Admins only: the fleet's events")
    shop_id: int | None = Field(None, ge=1, description="Admins only: the shop's events")


class SubscriptionOut(BaseModel):
    """A subscription (its secret is shown once, at creation)."""

    subscription_id: int
    url: str
    event_types: list[str]
    fleet_id: int | None
    shop_id: int | None
    description: str | None
    active: bool
    disabled_reason: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    """A new subscription and the secret its deliveries are signed with."""

    secret: str = Field(
        description="whsec_…: verify each delivery's webhook-signature with it (Standard "
        "Webhooks, HMAC-SHA256). Shown once."
    )


class Attempt(BaseModel):
    """One HTTP attempt of a delivery."""

    attempt: int
    at: datetime
    status_code: int | None
    duration_ms: float
    error: str | None


class DeliveryOut(BaseModel):
    """One event's delivery to the subscription, with every attempt."""

    delivery_id: int
    event_id: int
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    log: list[Attempt]


class DeliveryPage(BaseModel):
    """Deliveries, newest first."""

    items: list[DeliveryOut]
    next_cursor: str | None


class SubscriptionList(BaseModel):
    """The caller's subscriptions."""

    items: list[SubscriptionOut]
