# SPDX-License-Identifier: MIT
"""Routes of the vehicles domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth.principal import Principal
from api.deps import (
    ConnDep,
    OwnVehicleIdDep,
    PrincipalDep,
    VehicleHistoryIdDep,
    VehicleIdDep,
    require_roles,
)
from api.devices import pairing, sync
from api.devices.schemas import ClaimRequest, PairingCode, ReleaseOut
from api.orders.actions import now
from api.pagination import CursorQuery, LimitQuery
from api.problems import ProblemError, not_found, problem_response
from api.vehicles import registry, service, telemetry
from api.vehicles.schemas import (
    AlertPage,
    OilAnalysisCreate,
    OilAnalysisOut,
    OilAnalysisPage,
    Point,
    PredictionPage,
    ServiceHistoryPage,
    TelemetrySeries,
    VehicleCreate,
    VehicleHealth,
    VehicleOut,
    VehiclePage,
    VehicleSettings,
)

router = APIRouter(prefix="/vehicles", tags=["vehicles"])
NOT_FOUND = problem_response(404)


@router.get("", response_model=VehiclePage, responses=problem_response(400))
def list_vehicles(
    conn: ConnDep, principal: PrincipalDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> VehiclePage:
    """The vehicles the caller may see, newest first."""
    return registry.list_page(conn=conn, principal=principal, limit=limit, cursor=cursor)


@router.post(
    "",
    response_model=VehicleOut,
    status_code=201,
    responses=problem_response(403) | problem_response(404) | problem_response(409),
)
def register_vehicle(
    body: VehicleCreate,
    principal: Annotated[Principal, Depends(require_roles("owner", "fleet_manager"))],
    conn: ConnDep,
) -> VehicleOut:
    """Register a vehicle: an owner's own, or one of a fleet manager's fleet."""
    return registry.register(conn=conn, principal=principal, body=body)


def owners_only(principal: PrincipalDep) -> Principal:
    """Only owners claim and release cars: it is a person's consent (admins included: 403)."""
    if principal.role != "owner":
        raise ProblemError(
            403,
            "forbidden",
            "Forbidden",
            f"The {principal.role} role may not do this: only a car's owner claims or releases "
            "it (a fleet adds cars with POST /fleets/{fleet_id}/vehicles).",
        )
    return principal


OwnerDep = Annotated[Principal, Depends(owners_only)]


@router.post(
    "/claims",
    response_model=VehicleOut,
    status_code=201,
    responses={200: {"model": VehicleOut, "description": "The car was yours already"}}
    | problem_response(403)
    | problem_response(409)
    | problem_response(429),
)
def claim_vehicle(
    request: Request, body: ClaimRequest, principal: OwnerDep, conn: ConnDep, response: Response
) -> VehicleOut:
    """Owners: claim a car by its VIN (or dongle id) and the pairing code on its dongle. A car
    with another owner or in a fleet is refused (409) until its holder releases it."""
    # A code is guessed like a password, so a claim spends from the login budget.
    request.app.state.limiter.hit(
        request.app.state.limiter.logins_per_client, "claim", str(principal.user_id)
    )
    claimed = pairing.claim(
        conn=conn,
        user_id=principal.user_id,
        code=body.pairing_code,
        now=now(),
        device_broker=sync.device_broker(request.app),
        vin=body.vin,
        device_id=body.device_id,
    )
    response.status_code = 201 if claimed.newly_claimed else 200
    vehicle = registry.get_vehicle(conn=conn, vehicle_id=claimed.vehicle_id)
    assert vehicle is not None
    return vehicle


@router.post(
    "/{vehicle_id}/release",
    response_model=ReleaseOut,
    responses=problem_response(403) | problem_response(404) | problem_response(409),
)
def release_vehicle(principal: OwnerDep, vehicle_id: VehicleIdDep, conn: ConnDep) -> ReleaseOut:
    """Owners: give up a car (sold, returned); its dongles get new pairing codes, returned here
    for the next owner, who claims it with them."""
    codes = pairing.release(conn=conn, vehicle_id=vehicle_id, user_id=principal.user_id)
    return ReleaseOut(
        vehicle_id=vehicle_id,
        pairing_codes=[PairingCode(device_id=d, pairing_code=c) for d, c in codes.items()],
    )


@router.get("/{vehicle_id}", response_model=VehicleOut, responses=problem_response(404))
def get_vehicle(vehicle_id: VehicleIdDep, conn: ConnDep, principal: PrincipalDep) -> VehicleOut:
    """One vehicle's registration (for a shop, without who holds it)."""
    vehicle = registry.get_vehicle(conn=conn, vehicle_id=vehicle_id)
    if vehicle is None:  # deleted between the check and the read
        raise not_found("vehicle", vehicle_id)
    return registry.for_principal(vehicle, principal)


@router.patch(
    "/{vehicle_id}",
    response_model=VehicleSettings,
    responses=NOT_FOUND | problem_response(403) | problem_response(422),
)
def update_vehicle_settings(
    vehicle_id: OwnVehicleIdDep, body: VehicleSettings, conn: ConnDep
) -> VehicleSettings:
    """Owners and fleet managers: whether the shops working on the car see its service history
    (other shops' reports and costs, oil analyses; off by default), and the car's registered
    mass and body type, which the brake-pad model uses (null clears one: not known)."""
    return registry.update_settings(conn=conn, vehicle_id=vehicle_id, body=body)


@router.get("/{vehicle_id}/health", response_model=VehicleHealth, responses=NOT_FOUND)
def vehicle_health(
    vehicle_id: VehicleIdDep, conn: ConnDep, principal: PrincipalDep
) -> VehicleHealth:
    """Oil life, brake pads, open alerts and latest values of one vehicle; a shop sees only
    the components of the jobs it is working on (`scope: job`, `components`)."""
    health = service.get_health(conn=conn, vehicle_id=vehicle_id)
    if health is None:  # deleted between the check and the read
        raise not_found("vehicle", vehicle_id)
    return service.scoped_health(conn=conn, health=health, principal=principal)


@router.get(
    "/{vehicle_id}/telemetry",
    response_model=TelemetrySeries,
    responses=NOT_FOUND | problem_response(400),
)
def vehicle_telemetry(
    vehicle_id: OwnVehicleIdDep,
    conn: ConnDep,
    signal: Annotated[telemetry.SignalName, Query(description="A catalogue signal")],
    bucket: Annotated[
        telemetry.Bucket,
        Query(
            description="raw samples (at most 1 day), 1m (7 days), 1h (92 days) or 1d "
            "(400 days) buckets from the rollups"
        ),
    ] = telemetry.Bucket.hour,
    start: Annotated[datetime | None, Query(description="Default: `end` minus one day")] = None,
    end: Annotated[datetime | None, Query(description="Exclusive; default: now")] = None,
) -> TelemetrySeries:
    """One signal of the vehicle over a time range, averaged per bucket with min, max and the
    number of samples."""
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=1)
    if start.tzinfo is None or end.tzinfo is None:
        raise ProblemError(
            400,
            "naive-time",
            "Times need a zone",
            "Give start and end with a UTC offset, e.g. 2026-11-21T00:00:00Z.",
        )
    if start >= end:
        raise ProblemError(400, "empty-range", "Empty time range", "start must be before end.")
    try:
        found = telemetry.series(
            conn, vehicle_id=vehicle_id, signal=signal.value, bucket=bucket, start=start, end=end
        )
    except telemetry.RangeTooLong as exc:
        raise ProblemError(400, "range-too-long", "Time range too long", str(exc)) from exc
    return TelemetrySeries(
        vehicle_id=vehicle_id,
        signal=found.signal,
        unit=found.unit,
        bucket=found.bucket.value,
        start=found.start,
        end=found.end,
        points=[Point(t=t, avg=a, min=lo, max=hi, n=n) for t, a, lo, hi, n in found.points],
    )


@router.get(
    "/{vehicle_id}/predictions",
    response_model=PredictionPage,
    responses=NOT_FOUND | problem_response(400),
)
def vehicle_predictions(
    vehicle_id: OwnVehicleIdDep,
    conn: ConnDep,
    model: Literal["oil_life", "brake_pads"] | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> PredictionPage:
    """The history of the models' outputs for the vehicle, newest first."""
    return service.predictions(
        conn=conn, vehicle_id=vehicle_id, model=model, limit=limit, cursor=cursor
    )


@router.get(
    "/{vehicle_id}/alerts", response_model=AlertPage, responses=NOT_FOUND | problem_response(400)
)
def vehicle_alerts(
    vehicle_id: OwnVehicleIdDep,
    conn: ConnDep,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> AlertPage:
    """Every alert of the vehicle, resolved ones too, newest first."""
    return service.alerts(
        conn=conn, vehicle_id=vehicle_id, status=status, limit=limit, cursor=cursor
    )


@router.get(
    "/{vehicle_id}/service-history",
    response_model=ServiceHistoryPage,
    responses=NOT_FOUND | problem_response(400),
)
def vehicle_service_history(
    vehicle_id: VehicleHistoryIdDep,
    conn: ConnDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> ServiceHistoryPage:
    """Completed services: work, parts, cost and what the shop measured, newest first."""
    return service.service_history(conn=conn, vehicle_id=vehicle_id, limit=limit, cursor=cursor)


@router.post(
    "/{vehicle_id}/oil-analyses",
    response_model=OilAnalysisOut,
    status_code=201,
    responses=NOT_FOUND | problem_response(422),
)
def record_oil_analysis(
    vehicle_id: VehicleIdDep, body: OilAnalysisCreate, conn: ConnDep, principal: PrincipalDep
) -> OilAnalysisOut:
    """Record a used-oil analysis (the owner, fleet manager, or the shop holding an active
    order for the car, that sent the sample).

    It is compared with the fleet model's prediction at the sample and, from the next
    evaluation on, scales the oil model to this engine and narrows its band; it resolves the
    vehicle's oil-sample request.
    """
    return service.record_oil_analysis(
        conn=conn, vehicle_id=vehicle_id, body=body, principal=principal
    )


@router.get(
    "/{vehicle_id}/oil-analyses",
    response_model=OilAnalysisPage,
    responses=NOT_FOUND | problem_response(400),
)
def vehicle_oil_analyses(
    vehicle_id: VehicleHistoryIdDep,
    conn: ConnDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> OilAnalysisPage:
    """The vehicle's used-oil analyses, newest recorded first."""
    return service.oil_analyses(conn=conn, vehicle_id=vehicle_id, limit=limit, cursor=cursor)
