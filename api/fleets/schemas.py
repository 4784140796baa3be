# SPDX-License-Identifier: MIT
"""Request and response models of the fleets domain."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.figures import Hours, Km, Mm, MoneyPerCurrency, Pct, Share

Status = Literal["overdue", "due_soon", "trouble_codes", "offline", "ok"]


class FleetVehicle(BaseModel):
    """One row of the fleet health table."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vehicle_id": 7,
                    "vin": "WVWZZZ1JZXW000001",
                    "make": "VW",
                    "model": "Golf",
                    "status": "due_soon",
                    "odometer_km": 48213.4,
                    "last_seen": "2026-11-21T08:15:00Z",
                    "oil_life_pct": 14.2,
                    "oil_remaining_km": 610.0,
                    "pad_front_mm": 6.1,
                    "pad_rear_mm": 8.3,
                    "pads_remaining_km": 19800.0,
                    "trouble_codes": [],
                    "open_alerts": 1,
                }
            ]
        }
    )

    vehicle_id: int
    vin: str
    make: str | None
    model: str | None
    status: Status = Field(
        description="The worst of: overdue (oil at 0 % or a pad at 3 mm), due_soon (oil at "
        "15 % or a pad at 4 mm), trouble_codes (any active code), offline (not seen for a day), ok"
    )
    odometer_km: Km | None
    last_seen: datetime | None
    oil_life_pct: Pct | None
    oil_remaining_km: Km | None
    pad_front_mm: Mm | None
    pad_rear_mm: Mm | None
    pads_remaining_km: Km | None
    trouble_codes: list[str] = Field(description="Stored, pending and permanent codes")
    open_alerts: int


class FleetHealthPage(BaseModel):
    """The fleet's vehicles by id."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "vehicle_id": 7,
                            "vin": "WVWZZZ1JZXW000001",
                            "make": "VW",
                            "model": "Golf",
                            "status": "due_soon",
                            "odometer_km": 48213.4,
                            "last_seen": "2026-11-21T08:16:00Z",
                            "oil_life_pct": 14.2,
                            "oil_remaining_km": 610.0,
                            "pad_front_mm": 6.1,
                            "pad_rear_mm": 8.3,
                            "pads_remaining_km": 19800.0,
                            "trouble_codes": [],
                            "open_alerts": 1,
                        }
                    ],
                    "next_cursor": "eyJhZnRlcl9pZCI6IDd9",
                }
            ]
        }
    )

    items: list[FleetVehicle]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class FleetKpis(BaseModel):
    """The fleet's maintenance figures over the last ``days`` days."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fleet_id": 2,
                    "days": 90,
                    "vehicles": 240,
                    "due_soon": 11,
                    "overdue": 2,
                    "with_trouble_codes": 5,
                    "offline": 3,
                    "services_completed": 38,
                    "maintenance_cost": {"EUR": 6120.5},
                    "downtime_hours": 71.5,
                    "on_time_service_rate": 0.921,
                }
            ]
        }
    )

    fleet_id: int
    days: int
    vehicles: int
    due_soon: int
    overdue: int
    with_trouble_codes: int
    offline: int
    services_completed: int
    maintenance_cost: MoneyPerCurrency = Field(description="Sum of completed services per currency")
    downtime_hours: Hours = Field(description="From check-in to completion, summed")
    on_time_service_rate: Share | None = Field(
        description="Share of completed services finished by their due date"
    )


class FleetOut(BaseModel):
    """A fleet and the size of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fleet_id": 1,
                    "name": "Becker Logistics",
                    "vehicles": 240,
                    "created_at": "2026-01-05T09:00:00Z",
                }
            ]
        }
    )

    fleet_id: int
    name: str
    vehicles: int
    created_at: datetime


class FleetPage(BaseModel):
    """One page of fleets, by id."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "fleet_id": 1,
                            "name": "Becker Logistics",
                            "vehicles": 240,
                            "created_at": "2026-01-05T09:00:00Z",
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[FleetOut]
    next_cursor: str | None


class FleetCreate(BaseModel):
    """A new fleet's name."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"name": "Becker Logistics"}]},
    )

    name: str = Field(min_length=1, max_length=200)


class FleetVehicleAdd(BaseModel):
    """A vehicle to add to a fleet, by VIN; the rest describes it if it is new to us."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"vin": "WVWZZZ1JZXW000001", "make": "Volkswagen"}]},
    )

    vin: str = Field(pattern=r"^[A-HJ-NPR-Z0-9]{17}$", description="17 characters, no I, O, Q")
    make: str | None = Field(None, max_length=60)
    model: str | None = Field(None, max_length=60)
    model_year: int | None = Field(None, ge=1980, le=2100)
    fuel_type: Literal["petrol", "diesel", "hybrid", "electric"] = "petrol"


class ApprovalPolicyIn(BaseModel):
    """The fleet's cost limit: its vehicles' orders estimated at or under it are approved
    automatically, the others wait for the fleet's manager."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"limit_amount": 250, "currency": "EUR"}]}
    )

    limit_amount: float = Field(ge=0, le=99_999_999, description="In the fleet's currency")
    currency: str = Field(pattern="^[A-Za-z]{3}$", description="ISO 4217, such as EUR")


class ApprovalPolicyOut(BaseModel):
    """The fleet's approval policy; without a limit (null) its orders need no approval."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fleet_id": 3,
                    "limit_amount": 250.0,
                    "currency": "EUR",
                    "updated_at": "2026-12-07T09:30:00Z",
                    "updated_by": "user:12",
                },
                {
                    "fleet_id": 4,
                    "limit_amount": None,
                    "currency": None,
                    "updated_at": None,
                    "updated_by": None,
                },
            ]
        }
    )

    fleet_id: int
    limit_amount: float | None
    currency: str | None
    updated_at: datetime | None
    updated_by: str | None


class ApprovalItem(BaseModel):
    """An order of the fleet's as its approvals list shows it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": 41,
                    "vehicle_id": 7,
                    "vin": "WVWZZZ1JZXW000001",
                    "issue": "Front pads 2.9 mm, about 1,200 km left",
                    "status": "scheduled",
                    "approval": "pending",
                    "approval_by": "fleet-policy",
                    "approval_at": "2026-12-07T09:31:00Z",
                    "approval_note": None,
                    "shop_name": "Becker Garage",
                    "estimate": 289.0,
                    "currency": "EUR",
                }
            ]
        }
    )

    order_id: int
    vehicle_id: int
    vin: str
    issue: str
    status: str
    approval: Literal["auto", "pending", "approved", "rejected"]
    approval_by: str | None
    approval_at: datetime | None
    approval_note: str | None
    shop_name: str | None
    estimate: float | None = Field(description="The holding shop's price, else the best one's")
    currency: str | None
