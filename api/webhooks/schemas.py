# SPDX-License-Identifier: MIT
"""Request and response models of the webhooks routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

# What a subscription may ask for (``delivery.EVENT_TYPES``): ``order.approval_decided``, a
# fleet's manager approved or rejected an order (revision 0025); ``offer.made``, an order
# offered to a shop (revision 0021), which only that shop's subscriptions receive.
EventType = Literal[
    "alert.raised",
    "order.created",
    "order.status_changed",
    "order.approval_decided",
    "offer.made",
]


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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subscription_id": 5,
                    "url": "https://fleet.example.com/hooks/wrenchlight",
                    "event_types": ["alert.raised", "order.status_changed"],
                    "fleet_id": 2,
                    "shop_id": None,
                    "description": "maintenance planner",
                    "active": True,
                    "disabled_reason": None,
                    "created_at": "2026-11-21T08:16:00Z",
                }
            ]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subscription_id": 5,
                    "url": "https://fleet.example.com/hooks/wrenchlight",
                    "event_types": ["alert.raised", "order.status_changed"],
                    "fleet_id": 2,
                    "shop_id": None,
                    "description": "maintenance planner",
                    "active": True,
                    "disabled_reason": None,
                    "created_at": "2026-11-21T08:16:00Z",
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                }
            ]
        }
    )

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
    error: str | None = Field(
        description="Why the attempt failed: the status code, or a generic reason; never the "
        "receiver's answer"
    )


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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "delivery_id": 91,
                            "event_id": 4410,
                            "event_type": "alert.raised",
                            "status": "delivered",
                            "attempts": 2,
                            "next_attempt_at": None,
                            "delivered_at": "2026-11-21T08:16:06Z",
                            "log": [
                                {
                                    "attempt": 1,
                                    "at": "2026-11-21T08:16:00Z",
                                    "status_code": 503,
                                    "duration_ms": 41.2,
                                    "error": "HTTP 503",
                                },
                                {
                                    "attempt": 2,
                                    "at": "2026-11-21T08:16:06Z",
                                    "status_code": 200,
                                    "duration_ms": 38.7,
                                    "error": None,
                                },
                            ],
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[DeliveryOut]
    next_cursor: str | None


class SubscriptionList(BaseModel):
    """The caller's subscriptions."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "subscription_id": 5,
                            "url": "https://fleet.example.com/hooks/wrenchlight",
                            "event_types": ["alert.raised", "order.status_changed"],
                            "fleet_id": 2,
                            "shop_id": None,
                            "description": "maintenance planner",
                            "active": True,
                            "disabled_reason": None,
                            "created_at": "2026-11-21T08:16:00Z",
                        }
                    ]
                }
            ]
        }
    )

    items: list[SubscriptionOut]
