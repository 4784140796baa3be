# SPDX-License-Identifier: MIT
"""Response models of the vehicles domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.figures import InCurrency, Km, Mm, Money, Pct, Reading
from predictive.health import Band  # good / due_soon / due_now / overdue: the alert tier
from predictive.mass import MAX_MASS_KG, MIN_MASS_KG, BodyType
from predictive.oil_analysis import DEFAULT_SD_PCT

# What a registration says of the car's mass (predictive.mass: the pad model takes the
# registered mass, else the body type's default, else a wide unknown default).
MassKg = Annotated[
    float,
    Field(
        ge=MIN_MASS_KG,
        le=MAX_MASS_KG,
        description="Kerb mass in kg from the registration papers (500-4,000); null: not "
        "known, the body type's typical mass is used",
    ),
]
BODY_TYPE_DESCRIPTION = (
    "Body class: small, compact, midsize, suv, pickup or van; its typical mass (and a wider "
    "band) stands in for a mass not given. Null: not known"
)

# The parts of a car's health: oil (its life and oil-sample requests), brake pads, trouble codes.
HealthComponent = Literal["brake_pads", "oil", "trouble_codes"]
HEALTH_COMPONENTS: tuple[HealthComponent, ...] = ("brake_pads", "oil", "trouble_codes")


class TierProjection(BaseModel):
    """When a wear tier is reached at the vehicle's recent usage."""

    threshold: Pct = Field(description="The tier's level (oil: percent)")
    km: Km | None = Field(description="Km from now; null when the rate is not known yet")
    date: datetime | None = Field(description="Date at the recent km per day; null if unknown")
    reached: bool


class OilHealth(BaseModel):
    """Latest oil-life prediction."""

    oil_life_pct: Pct = Field(description="Remaining oil life, 100 just after a change")
    remaining_km: Km | None = Field(description="Projected km until 0 % at the recent rate")
    band: Band
    as_of: datetime = Field(description="When the prediction was made")
    life_band_pct: tuple[Pct, Pct] | None = Field(
        None,
        description="10-90 % band of the life left (the learned model; null on physics only), "
        "narrowed by the vehicle's own oil analyses",
    )
    projection: dict[str, TierProjection] = Field(
        default_factory=dict,
        description="Distance and date to change_soon (15 %), due_now (5 %) and overdue (0 %)",
    )
    oil_analyses: int = Field(0, description="Used-oil analyses the estimate is calibrated by")
    sample_due: bool = Field(
        False, description="An oil sample is asked for: this engine's wear is not known yet"
    )


class BrakeHealth(BaseModel):
    """Latest brake-pad prediction."""

    pad_front_mm: Mm
    pad_rear_mm: Mm
    remaining_km: Km | None = Field(description="Projected km until the first axle hits 3 mm")
    band: Band
    as_of: datetime


class AlertOut(BaseModel):
    """An alert that is not resolved yet."""

    alert_id: int
    kind: Literal["oil_change", "brake_pads", "trouble_code", "oil_sample"]
    severity: Literal["info", "warning", "critical"]
    tier: Literal[
        "change_soon", "due_now", "overdue", "low", "medium", "high", "critical", "sample"
    ] = Field(
        description="Oil and pads: change_soon, due_now, overdue; trouble codes: urgency; "
        "oil_sample (have the oil analysed, once per interval while its wear is unknown): sample"
    )
    message: str
    status: Literal["open", "acknowledged"]
    created_at: datetime
    evidence: dict[str, Any] = Field(
        default_factory=dict,
        description="Current value, trend, recent usage and projected date and distance to "
        "each tier; for trouble codes, each code with its description, urgency and job",
    )


class VehicleHealth(BaseModel):
    """Everything a fleet manager looks at first for one vehicle; a shop the parts of its jobs."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vehicle_id": 7,
                    "vin": "WVWZZZ1JZXW000001",
                    "odometer_km": 48213.4,
                    "last_seen": "2026-11-21T08:15:00Z",
                    "oil": {
                        "oil_life_pct": 14.2,
                        "remaining_km": 610.0,
                        "band": "due_soon",
                        "as_of": "2026-11-21T08:16:00Z",
                        "life_band_pct": [12.9, 15.4],
                        "projection": {
                            "change_soon": {
                                "threshold": 15.0,
                                "km": 0.0,
                                "date": "2026-11-21T08:16:00Z",
                                "reached": True,
                            },
                            "due_now": {
                                "threshold": 5.0,
                                "km": 395.0,
                                "date": "2026-11-29T10:00:00Z",
                                "reached": False,
                            },
                            "overdue": {
                                "threshold": 0.0,
                                "km": 610.0,
                                "date": "2026-12-03T18:00:00Z",
                                "reached": False,
                            },
                        },
                        "oil_analyses": 2,
                        "sample_due": False,
                    },
                    "brake_pads": {
                        "pad_front_mm": 6.1,
                        "pad_rear_mm": 8.3,
                        "remaining_km": 19800.0,
                        "band": "good",
                        "as_of": "2026-11-21T08:16:00Z",
                    },
                    "open_alerts": [
                        {
                            "alert_id": 3,
                            "kind": "oil_change",
                            "severity": "warning",
                            "tier": "change_soon",
                            "message": "Oil life 14 %, about 600 km left",
                            "status": "open",
                            "created_at": "2026-11-21T08:16:00Z",
                        }
                    ],
                    "latest": {"speed_kmh": 0.0, "coolant_temp_c": 88.0},
                    "scope": "full",
                    "components": ["brake_pads", "oil", "trouble_codes"],
                }
            ]
        }
    )

    vehicle_id: int
    vin: str
    odometer_km: Km | None
    last_seen: datetime | None
    oil: OilHealth | None = Field(
        description="Null until the first evaluation, or when oil is not in `components`"
    )
    brake_pads: BrakeHealth | None = Field(
        description="Null until the first evaluation, or when brake_pads is not in `components`"
    )
    open_alerts: list[AlertOut] = Field(description="Those of the components shown")
    latest: dict[str, Any] = Field(
        description="Latest value of each signal, as ingest keeps it; empty in a job's view "
        "(a car's telemetry is its side's)"
    )
    scope: Literal["full", "job"] = Field(
        "full",
        description="full: the whole health (the car's owner or fleet, admins); job: a shop's "
        "view, only the components of the orders it is working on for the car",
    )
    components: list[HealthComponent] = Field(
        default_factory=lambda: list(HEALTH_COMPONENTS),
        description="The components shown: oil (oil life, oil change and oil-sample alerts), "
        "brake_pads, trouble_codes (trouble-code alerts); the others are left out, not absent",
    )


class Point(BaseModel):
    """One bucket of a series (raw readings: one sample, avg = min = max, n = 1)."""

    t: datetime = Field(description="Start of the bucket, or the sample's time")
    avg: float
    min: float
    max: float
    n: int = Field(description="Samples in the bucket")


class TelemetrySeries(BaseModel):
    """A signal of one vehicle over a time range."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vehicle_id": 7,
                    "signal": "coolant_temp_c",
                    "unit": "°C",
                    "bucket": "1h",
                    "start": "2026-11-20T00:00:00Z",
                    "end": "2026-11-21T00:00:00Z",
                    "points": [
                        {"t": "2026-11-20T07:00:00Z", "avg": 71.5, "min": 12, "max": 91, "n": 120}
                    ],
                }
            ]
        }
    )

    vehicle_id: int
    signal: str
    unit: str
    bucket: str = Field(description="raw, 1m, 1h or 1d")
    start: datetime
    end: datetime
    points: list[Point]


class PredictionOut(BaseModel):
    """One model output, with the evidence it was made from."""

    prediction_id: int
    model: str = Field(description="oil_life or brake_pads")
    model_version: str
    time: datetime
    value: Reading = Field(description="Oil life in percent, or the thinner pad in mm")
    unit: str
    remaining_km: Km | None
    evidence: dict[str, Any]


class PredictionPage(BaseModel):
    """Predictions, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "prediction_id": 1201,
                            "model": "oil_life",
                            "model_version": "oil-revs-temp-3+wl-learned-2",
                            "time": "2026-11-21T08:16:00Z",
                            "value": 14.2,
                            "unit": "%",
                            "remaining_km": 610.0,
                            "evidence": {
                                "oil_life_pct": 14.2,
                                "km_since_oil_change": 10412.5,
                                "recent_km_per_day": 41.5,
                            },
                        }
                    ],
                    "next_cursor": "eyJhZnRlcl9pZCI6IDEyMDF9",
                }
            ]
        }
    )

    items: list[PredictionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class AlertHistoryOut(AlertOut):
    """An alert, resolved or not."""

    status: Literal["open", "acknowledged", "resolved"]  # type: ignore[assignment]
    resolved_at: datetime | None


class AlertPage(BaseModel):
    """Alerts, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "alert_id": 3,
                            "kind": "oil_change",
                            "severity": "warning",
                            "tier": "change_soon",
                            "message": "Oil life 14 %, about 600 km left",
                            "status": "resolved",
                            "created_at": "2026-11-21T08:16:00Z",
                            "evidence": {
                                "current": {"oil_life_pct": 14.2},
                                "recent_km_per_day": 41.5,
                            },
                            "resolved_at": "2026-11-24T10:02:00Z",
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[AlertHistoryOut]
    next_cursor: str | None


class ServiceRecord(InCurrency):
    """A completed service: what the shop did, measured and charged."""

    order_id: int
    shop_id: int
    shop_name: str
    completed_at: datetime
    work_done: str
    odometer_km: Km | None
    oil_changed: bool
    pad_front_mm: Mm | None
    pad_rear_mm: Mm | None
    cost: Money
    currency: str
    parts: list[dict[str, Any]]
    labour_h: float | None = None  # hours of work charged, when the shop gave them
    technician: str | None = None  # who did the work, when the shop named them


class ServiceHistoryPage(BaseModel):
    """Completed services, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "order_id": 55,
                            "shop_id": 17,
                            "shop_name": "Oak Park Auto Service 3",
                            "completed_at": "2026-10-02T15:40:00Z",
                            "work_done": "Oil and filter changed",
                            "odometer_km": 37801.0,
                            "oil_changed": True,
                            "pad_front_mm": 7.9,
                            "pad_rear_mm": 8.8,
                            "cost": 89.0,
                            "currency": "EUR",
                            "parts": [{"part": "engine oil 5W-30", "quantity": 4.5, "unit": "l"}],
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[ServiceRecord]
    next_cursor: str | None


class OilAnalysisCreate(BaseModel):
    """A used-oil analysis from a lab: how much of the oil's life was left in the sample."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sampled_at": "2026-11-20T09:30:00Z",
                    "drained": False,
                    "life_left_pct": 46.0,
                    "sd_pct": 3.0,
                    "odometer_km": 52310.0,
                    "lab": "Lakeside Oil Lab, report 2026-4471",
                }
            ]
        },
        extra="forbid",
    )

    sampled_at: AwareDatetime = Field(description="When the sample was drawn (with time zone)")
    drained: bool = Field(
        description="The oil drained at a change (true) or a sample part-way through (false)"
    )
    life_left_pct: float = Field(ge=0, le=100, description="Life left the lab reports, percent")
    sd_pct: float = Field(
        DEFAULT_SD_PCT,
        ge=0,
        le=50,
        description="The lab's uncertainty, one standard deviation in percentage points",
    )
    odometer_km: float | None = Field(None, ge=0)
    lab: str | None = Field(None, max_length=200, description="Lab and report reference")


class OilAnalysisOut(BaseModel):
    """A stored analysis and the fleet model's prediction it was compared with."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "analysis_id": 3,
                    "vehicle_id": 7,
                    "sampled_at": "2026-11-20T09:30:00Z",
                    "drained": False,
                    "life_left_pct": 46.0,
                    "sd_pct": 3.0,
                    "odometer_km": 52310.0,
                    "predicted_consumed_pct": 50.8,
                    "prediction_id": 9120,
                    "lab": "Lakeside Oil Lab, report 2026-4471",
                    "recorded_by": "user:4",
                    "created_at": "2026-11-25T14:02:11Z",
                }
            ]
        }
    )

    analysis_id: int
    vehicle_id: int
    sampled_at: datetime
    drained: bool
    life_left_pct: Pct
    sd_pct: Pct
    odometer_km: Km | None
    predicted_consumed_pct: Pct | None = Field(
        description="The fleet model's median consumption at the sample; null when no learned "
        "prediction was there to compare with (the analysis then counts for nothing)"
    )
    prediction_id: int | None
    lab: str | None
    recorded_by: str | None
    created_at: datetime


class OilAnalysisPage(BaseModel):
    """One page of a vehicle's oil analyses, newest recorded first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [OilAnalysisOut.model_json_schema()["examples"][0]],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[OilAnalysisOut]
    next_cursor: str | None


class VehicleOut(BaseModel):
    """A vehicle's registration."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vehicle_id": 7,
                    "vin": "WVWZZZ1JZXW000001",
                    "make": "Volkswagen",
                    "model": "Golf",
                    "model_year": 2019,
                    "fuel_type": "petrol",
                    "mass_kg": 1290.0,
                    "body_type": "compact",
                    "fleet_id": None,
                    "owner_user_id": 3,
                    "vin_proven": True,
                }
            ]
        }
    )

    vehicle_id: int
    vin: str
    make: str | None
    model: str | None
    model_year: int | None
    fuel_type: str
    mass_kg: MassKg | None = None
    body_type: BodyType | None = Field(None, description=BODY_TYPE_DESCRIPTION)
    fleet_id: int | None = Field(
        description="Null for shop staff: a shop sees the car, not its holder"
    )
    owner_user_id: int | None = Field(
        description="Null for shop staff: a shop sees the car, not its holder"
    )
    vin_proven: bool = Field(
        description="Whether the holder proved the car is theirs: false for an owner's "
        "registration until they claim it with its dongle's pairing code (POST /vehicles/claims)"
    )


class VehicleCreate(BaseModel):
    """A vehicle to register: an owner's own, a fleet manager's for their fleet."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vin": "WVWZZZ1JZXW000001",
                    "make": "Volkswagen",
                    "model": "Golf",
                    "model_year": 2019,
                    "mass_kg": 1290,
                    "body_type": "compact",
                }
            ]
        }
    )

    vin: str = Field(pattern=r"^[A-HJ-NPR-Z0-9]{17}$", description="17 characters, no I, O, Q")
    make: str | None = Field(None, max_length=60)
    model: str | None = Field(None, max_length=60)
    model_year: int | None = Field(None, ge=1980, le=2100)
    fuel_type: Literal["petrol", "diesel", "hybrid", "electric"] = "petrol"
    mass_kg: MassKg | None = None
    body_type: BodyType | None = Field(None, description=BODY_TYPE_DESCRIPTION)
    fleet_id: int | None = Field(
        None, ge=1, description="Fleet managers: their fleet (the default); admins: any"
    )
    owner_user_id: int | None = Field(
        None, ge=1, description="Owners: themselves (the default); admins: any user"
    )


class VehiclePage(BaseModel):
    """One page of vehicles, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "vehicle_id": 7,
                            "vin": "WVWZZZ1JZXW000001",
                            "make": "Volkswagen",
                            "model": "Golf",
                            "model_year": 2019,
                            "fuel_type": "petrol",
                            "mass_kg": None,
                            "body_type": "suv",
                            "fleet_id": None,
                            "owner_user_id": 3,
                            "vin_proven": True,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[VehicleOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


class VehicleSettings(BaseModel):
    """The owner's choices for one vehicle; a field left out of a PATCH keeps its value
    (``mass_kg`` and ``body_type`` set to null are cleared: not known)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"share_history_with_shops": True},
                {"mass_kg": 1620, "body_type": "suv"},
            ]
        },
    )

    share_history_with_shops: bool | None = Field(
        None,
        description="Whether a shop holding an active order for the car sees its service "
        "history (other shops' reports and costs, oil analyses); false until the owner says so",
    )
    mass_kg: MassKg | None = None
    body_type: BodyType | None = Field(None, description=BODY_TYPE_DESCRIPTION)
