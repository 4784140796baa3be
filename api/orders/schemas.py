# SPDX-License-Identifier: MIT
"""Response models of the service-orders domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.figures import Estimate, Hours, Km

OrderStatus = Literal[
    "proposed",
    "offered",
    "accepted",
    "scheduled",
    "checked_in",
    "in_service",
    "completed",
    "declined",
    "cancelled",
    "expired",
]


class ShopRef(BaseModel):
    """The shop an order is matched to."""

    shop_id: int
    name: str
    distance_km: Km | None = Field(description="Great-circle distance from the vehicle's home")


class JobOut(BaseModel):
    """The recommended job."""

    code: str
    description: str


class PartOut(BaseModel):
    """One line of the parts list."""

    code: str
    description: str
    quantity: float
    unit: str


class Appointment(BaseModel):
    """The booked visit: when, where, which bay."""

    starts_at: datetime
    ends_at: datetime
    duration_h: Hours = Field(description="The slot's length")
    shop_id: int = Field(description="The shop the visit is booked at")
    bay: int | None = Field(None, description="The shop's bay, when the slot names one")


class Approval(BaseModel):
    """The vehicle's fleet's approval of the order's cost (``PUT /fleets/{id}/approval-policy``):
    ``auto`` (within the limit), ``pending`` (waits for the fleet's manager; the shop may not
    check in), ``approved`` or ``rejected`` (by the manager, with their note)."""

    state: Literal["auto", "pending", "approved", "rejected"]
    by: str | None = Field(None, description="fleet-policy, or the manager as user:{id}")
    at: datetime | None = None
    note: str | None = None


class DecisionIn(BaseModel):
    """The fleet manager's decision; a rejection needs a note."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "Needed before the tour"}]})

    note: str = Field("", max_length=500)


class OrderOut(BaseModel):
    """A pre-filled service order."""

    order_id: int
    vehicle_id: int
    alert_id: int | None
    status: OrderStatus
    vin: str
    odometer_km: Km | None
    issue: str
    evidence: dict[str, Any] = Field(description="The alert and the prediction behind it")
    job: JobOut
    parts: list[PartOut]
    shop: ShopRef | None = Field(description="Null when no capable shop could be matched")
    created_at: datetime
    updated_at: datetime
    component: str | None = Field(
        None, description="oil_change, brake_pads, trouble_code or oil_sample"
    )
    urgency: str | None = Field(None, description="The alert's tier")
    due_by: datetime | None = None
    bundle_id: int | None = Field(None, description="The order whose visit this one joins")
    match: dict[str, Any] | None = Field(
        None, description="Ranked shops, each with its score breakdown (criteria, weights)"
    )
    estimate: Estimate | None = Field(None, description="From the shop's price list")
    dispatch_mode: Literal["auto", "sequential", "broadcast"] | None = None
    consent: Literal["auto_book", "propose"] | None = None
    escalated: bool = False
    appointment: Appointment | None = Field(
        None, description="The booked visit; null until a slot is booked and after cancelling"
    )
    approval: Approval | None = Field(
        None, description="The fleet's approval; null when no fleet policy applies"
    )


class OrderPage(BaseModel):
    """One page of orders, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "order_id": 12,
                            "vehicle_id": 7,
                            "alert_id": 3,
                            "status": "proposed",
                            "vin": "WVWZZZ1JZXW000001",
                            "odometer_km": 48213.4,
                            "issue": "Oil life 14 %, about 600 km left",
                            "evidence": {
                                "alert_kind": "oil_change",
                                "prediction": {
                                    "model": "oil_life",
                                    "value": 14.2,
                                    "unit": "%",
                                    "remaining_km": 610.0,
                                },
                            },
                            "job": {
                                "code": "OIL-CHG",
                                "description": "Engine oil and oil filter change",
                            },
                            "parts": [
                                {
                                    "code": "OIL-5W30-SYN",
                                    "description": "Engine oil 5W-30",
                                    "quantity": 4.5,
                                    "unit": "l",
                                }
                            ],
                            "shop": {"shop_id": 4, "name": "Becker Garage", "distance_km": 2.7},
                            "created_at": "2026-11-21T08:16:01Z",
                            "updated_at": "2026-11-21T08:16:01Z",
                        }
                    ],
                    "next_cursor": "eyJhZnRlcl9pZCI6IDEyfQ",
                }
            ]
        }
    )

    items: list[OrderOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


class ProposeIn(BaseModel):
    """How to dispatch an order."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"mode": "broadcast", "consent": "auto_book", "k": 3}]}
    )

    mode: Literal["auto", "sequential", "broadcast"] = "sequential"
    consent: Literal["auto_book", "propose"] = "propose"
    k: int = Field(3, ge=1, le=20, description="Shops per broadcast wave")


class ConfirmIn(BaseModel):
    """The owner's confirmation, optionally of another proposed shop."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"shop_id": 17}]})

    shop_id: int | None = Field(None, ge=1)


class ReasonIn(BaseModel):
    """Why (a decline, a cancellation); for `schedule`, the slot the owner picked."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "the owner asked for Friday", "slot_id": 815}]}
    )

    reason: str = Field("", max_length=500)
    slot_id: int | None = Field(None, ge=1, description="schedule: one of the order's free slots")


class SlotOut(BaseModel):
    """A bookable slot of the order's shop."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "slot_id": 812,
                    "starts_at": "2026-11-24T08:00:00Z",
                    "ends_at": "2026-11-24T10:00:00Z",
                }
            ]
        }
    )

    slot_id: int
    starts_at: datetime
    ends_at: datetime


class DismissIn(BaseModel):
    """Why the alert is dismissed without a service."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "pads replaced at a garage abroad"}]}
    )

    reason: str = Field(min_length=1, max_length=500, pattern=r"\S")


class SurveyIn(BaseModel):
    """The owner's recommendation of the shop."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"score": 9}]})

    score: int = Field(ge=0, le=10)


class OfferOut(BaseModel):
    """An order offered to a shop."""

    offer_id: int
    shop_id: int
    mode: str
    offered_at: datetime
    expires_at: datetime
    response: str | None


class EventOut(BaseModel):
    """One step in an order's history."""

    at: datetime
    kind: str
    from_status: str | None
    status: str
    actor: str
    note: str | None
    shop_id: int | None = Field(
        None, description="The shop holding the order at this step (from its acceptance on)"
    )


class OrderDetail(OrderOut):
    """An order with its offers and history."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": 88,
                    "vehicle_id": 7,
                    "alert_id": 3,
                    "status": "scheduled",
                    "vin": "WVWZZZ1JZXW000001",
                    "odometer_km": 48213.4,
                    "issue": "Oil life 14 %, about 600 km left",
                    "evidence": {"current": {"oil_life_pct": 14.2}, "recent_km_per_day": 41.5},
                    "job": {"code": "OIL-CHG", "description": "Engine oil and filter change"},
                    "parts": [
                        {
                            "code": "OIL-5W30",
                            "description": "Engine oil 5W-30",
                            "quantity": 4.5,
                            "unit": "l",
                        }
                    ],
                    "shop": {"shop_id": 17, "name": "Oak Park Auto Service 3", "distance_km": 6.2},
                    "created_at": "2026-11-21T08:16:00Z",
                    "updated_at": "2026-11-21T08:22:00Z",
                    "component": "oil_change",
                    "urgency": "soon",
                    "due_by": "2026-12-05T00:00:00Z",
                    "bundle_id": None,
                    "match": {
                        "ranked": [
                            {"shop_id": 17, "name": "Oak Park Auto Service 3", "score": 0.82}
                        ]
                    },
                    "estimate": {"total": 89.0, "currency": "EUR", "jobs": ["OIL-CHG"]},
                    "dispatch_mode": "broadcast",
                    "consent": "auto_book",
                    "escalated": False,
                    "offers": [
                        {
                            "offer_id": 301,
                            "shop_id": 17,
                            "mode": "broadcast",
                            "offered_at": "2026-11-21T08:16:00Z",
                            "expires_at": "2026-11-21T08:21:00Z",
                            "response": "accepted",
                        }
                    ],
                    "events": [
                        {
                            "at": "2026-11-21T08:16:00Z",
                            "kind": "transition",
                            "from_status": None,
                            "status": "proposed",
                            "actor": "system",
                            "note": "from alert 3",
                        },
                        {
                            "at": "2026-11-21T08:22:00Z",
                            "kind": "transition",
                            "from_status": "accepted",
                            "status": "scheduled",
                            "actor": "user:12",
                            "note": "booked 2026-11-24T08:00:00+00:00",
                        },
                    ],
                }
            ]
        }
    )

    offers: list[OfferOut]
    events: list[EventOut]
