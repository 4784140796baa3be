# SPDX-License-Identifier: MIT
"""Response models of the service-orders domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    distance_km: float | None = Field(description="Great-circle distance from the vehicle's home")


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


class OrderOut(BaseModel):
    """A pre-filled service order."""

    order_id: int
    vehicle_id: int
    alert_id: int | None
    status: OrderStatus
    vin: str
    odometer_km: float | None
    issue: str
    evidence: dict[str, Any] = Field(description="The alert and the prediction behind it")
    job: JobOut
    parts: list[PartOut]
    shop: ShopRef | None = Field(description="Null when no capable shop could be matched")
    created_at: datetime
    updated_at: datetime


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
