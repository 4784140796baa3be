# SPDX-License-Identifier: MIT
"""A vehicle's health from its state, predictions and alerts; its prediction, alert and
service histories; its used-oil analyses."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from api import access
from api.auth.principal import Principal
from api.deps import VEHICLE_SIDE
from api.pagination import decode_cursor, next_cursor
from api.problems import ProblemError
from api.vehicles.schemas import (
    AlertHistoryOut,
    AlertOut,
    AlertPage,
    BrakeHealth,
    OilAnalysisCreate,
    OilAnalysisOut,
    OilAnalysisPage,
    OilHealth,
    PredictionOut,
    PredictionPage,
    ServiceHistoryPage,
    ServiceRecord,
    VehicleHealth,
)
from db.rows import a_dict, dicts, records
from predictive import (
    BRAKE_MODEL,
    OIL_MODEL,
    lab_results,
    latest_predictions,
    learned,
    oil_analysis,
    oil_band,
    pad_band,
)
from predictive.health import OIL_DUE_SOON_PCT, PAD_DUE_SOON_MM, Prediction

log = logging.getLogger(__name__)

T = TypeVar("T")


def get_health(*, conn: psycopg.Connection, vehicle_id: int) -> VehicleHealth | None:
    """The vehicle's health, or None if there is no such vehicle."""
    row = a_dict(
        conn,
        "SELECT v.vin, s.odometer_km, s.last_seen, s.latest FROM vehicles v "
        "LEFT JOIN vehicle_state s USING (vehicle_id) WHERE v.vehicle_id = %s",
        (vehicle_id,),
    )
    if row is None:
        return None
    predictions = latest_predictions(conn=conn, vehicle_id=vehicle_id)
    oil = brakes = None
    if (p := predictions.get(OIL_MODEL)) is not None:
        fit = p.evidence.get("learned") or {}
        # A lab's analysis of this interval's oil anchors the life, its band and count.
        analysis = p.evidence.get("analysis") or {}
        band = analysis.get("band_pct", fit.get("band_pct"))
        oil = OilHealth(
            oil_life_pct=round(p.value, 1),
            remaining_km=p.remaining_km,
            band=oil_band(p.value, _change_soon(p, OIL_DUE_SOON_PCT)),
            as_of=p.time,
            life_band_pct=None if band is None else (band[0], band[1]),
            projection=p.evidence.get("projection") or {},
            oil_analyses=analysis.get("oil_analyses", fit.get("oil_analyses", 0)),
            sample_due=fit.get("sample_due", False),
        )
    if (p := predictions.get(BRAKE_MODEL)) is not None:
        front = float(p.evidence.get("pad_front_mm", p.value))
        rear = float(p.evidence.get("pad_rear_mm", p.value))
        brakes = BrakeHealth(
            pad_front_mm=front,
            pad_rear_mm=rear,
            remaining_km=p.remaining_km,
            band=pad_band(min(front, rear), _change_soon(p, PAD_DUE_SOON_MM)),
            as_of=p.time,
        )
    alerts = records(
        conn,
        AlertOut,
        "SELECT alert_id, kind, severity, message, status, created_at, tier, evidence FROM alerts "
        "WHERE vehicle_id = %s AND status <> 'resolved' ORDER BY alert_id",
        (vehicle_id,),
    )
    return VehicleHealth(
        vehicle_id=vehicle_id,
        vin=row["vin"],
        odometer_km=row["odometer_km"],
        last_seen=row["last_seen"],
        oil=oil,
        brake_pads=brakes,
        open_alerts=alerts,
        latest=row["latest"] or {},
    )


def scoped_health(
    *, conn: psycopg.Connection, health: VehicleHealth, principal: Principal
) -> VehicleHealth:
    """The part of a car's health ``principal`` may see: the car's side and admins all of it,
    anyone else (a shop) the components of the orders they work on (``access.working_orders``,
    mapped by ``access.job_component``; live alerts follow the same mapping)."""
    if principal.is_admin or principal.role in VEHICLE_SIDE:
        return health
    where, params = access.working_orders(principal, "o")
    rows = dicts(
        conn,
        sql.SQL(
            "SELECT o.component, o.job_code FROM service_orders o "
            "WHERE o.vehicle_id = %(vehicle_id)s AND {}"
        ).format(where),
        {**params, "vehicle_id": health.vehicle_id},
    )
    jobs = (access.job_component(r["component"], r["job_code"]) for r in rows)
    shown = sorted({c for c in jobs if c is not None})
    kinds = {kind for part in shown for kind in access.ALERT_KINDS[part]}
    return health.model_copy(
        update={
            "oil": health.oil if "oil" in shown else None,
            "brake_pads": health.brake_pads if "brake_pads" in shown else None,
            "open_alerts": [a for a in health.open_alerts if a.kind in kinds],
            # The latest values are the car's live telemetry, which is its side's only.
            "latest": {},
            "scope": "job",
            "components": shown,
        }
    )


def _page(rows: list[T], limit: int, key: Callable[[T], int]) -> tuple[list[T], str | None]:
    """The first ``limit`` rows (fetched as ``limit + 1``), and the cursor after them, from
    each row's id (``key``)."""
    return rows[:limit], next_cursor([key(r) for r in rows], limit)


def predictions(
    *, conn: psycopg.Connection, vehicle_id: int, model: str | None, limit: int, cursor: str | None
) -> PredictionPage:
    """The vehicle's predictions, newest first."""
    before = None if cursor is None else decode_cursor(cursor)
    rows = dicts(
        conn,
        "SELECT prediction_id, model, model_version, time, value, unit, remaining_km, evidence "
        "FROM predictions WHERE vehicle_id = %s AND (%s::text IS NULL OR model = %s) "
        "AND (%s::bigint IS NULL OR prediction_id < %s) ORDER BY prediction_id DESC LIMIT %s",
        (vehicle_id, model, model, before, before, limit + 1),
    )
    rows, cursor_after = _page(rows, limit, itemgetter("prediction_id"))
    items = []
    for r in rows:
        # The running totals are the model's own bookkeeping, not evidence for a person.
        evidence = {k: v for k, v in (r["evidence"] or {}).items() if k != "state"}
        items.append(PredictionOut(**(r | {"evidence": evidence})))
    return PredictionPage(items=items, next_cursor=cursor_after)


def alerts(
    *, conn: psycopg.Connection, vehicle_id: int, status: str | None, limit: int, cursor: str | None
) -> AlertPage:
    """The vehicle's alerts, newest first."""
    before = None if cursor is None else decode_cursor(cursor)
    rows = dicts(
        conn,
        "SELECT alert_id, kind, severity, message, status, created_at, tier, evidence, "
        "resolved_at FROM alerts WHERE vehicle_id = %s AND (%s::text IS NULL OR status = %s) "
        "AND (%s::bigint IS NULL OR alert_id < %s) ORDER BY alert_id DESC LIMIT %s",
        (vehicle_id, status, status, before, before, limit + 1),
    )
    rows, cursor_after = _page(rows, limit, itemgetter("alert_id"))
    return AlertPage(
        items=[AlertHistoryOut(**(a | {"evidence": a["evidence"] or {}})) for a in rows],
        next_cursor=cursor_after,
    )


_SERVICE_RECORDS = (
    "SELECT o.order_id, r.shop_id, s.name AS shop_name, r.reported_at AS completed_at, "
    "r.work_done, r.odometer_km, r.oil_changed, r.pad_front_mm, r.pad_rear_mm, r.cost, "
    "r.currency, r.parts, r.labour_h, r.technician "
    "FROM service_orders o JOIN service_reports r USING (order_id) "
    "JOIN shops s ON s.shop_id = r.shop_id "
)


def _service_record(row: dict[str, Any]) -> ServiceRecord:
    return ServiceRecord(**(row | {"cost": float(row["cost"]), "parts": row["parts"] or []}))


def service_history(
    *, conn: psycopg.Connection, vehicle_id: int, limit: int, cursor: str | None
) -> ServiceHistoryPage:
    """The vehicle's completed services with the shop's report, newest first."""
    before = None if cursor is None else decode_cursor(cursor)
    rows = dicts(
        conn,
        _SERVICE_RECORDS + "WHERE o.vehicle_id = %s "
        "AND (%s::bigint IS NULL OR o.order_id < %s) ORDER BY o.order_id DESC LIMIT %s",
        (vehicle_id, before, before, limit + 1),
    )
    rows, cursor_after = _page(rows, limit, itemgetter("order_id"))
    return ServiceHistoryPage(
        items=[_service_record(r) for r in rows],
        next_cursor=cursor_after,
    )


def _change_soon(prediction: Prediction, default: float) -> float:
    """The change-soon threshold the prediction's alert was raised at (the configured one, in
    its projection), so the band says what the alert says."""
    change_soon = (prediction.evidence.get("projection") or {}).get("change_soon") or {}
    return float(change_soon.get("threshold", default))


def service_report(*, conn: psycopg.Connection, order_id: int) -> ServiceRecord | None:
    """The shop's report of one completed order (as the service history lists it), or None."""
    row = a_dict(conn, _SERVICE_RECORDS + "WHERE o.order_id = %s", (order_id,))
    return None if row is None else _service_record(row)


def _learned_models() -> learned.LearnedModels | None:
    """The learned models where the evaluator finds them (``learned.DEFAULT_DIR``), if any."""
    try:
        return learned.find_models()
    except learned.ArtifactError as exc:
        # A broken artifact must not refuse the lab's result: the physics model still applies.
        log.warning("learned models not used: %s", exc)
        return None


def record_oil_analysis(
    *,
    conn: psycopg.Connection,
    vehicle_id: int,
    body: OilAnalysisCreate,
    principal: Principal,
    now: datetime | None = None,
) -> OilAnalysisOut:
    """Store a lab's analysis and publish the oil life it makes at once (``lab_results``)."""
    try:
        stored, _ = lab_results.record_analysis(
            conn,
            vehicle_id=vehicle_id,
            recorded_by=principal.subject,
            now=now or datetime.now(UTC),
            learned_models=_learned_models(),
            **body.model_dump(),
        )
    except oil_analysis.OilAnalysisError as exc:
        raise ProblemError(422, "invalid-oil-analysis", "Invalid oil analysis", str(exc)) from None
    return _analysis_out(stored)


def _analysis_out(analysis: oil_analysis.OilAnalysis) -> OilAnalysisOut:
    return OilAnalysisOut(**dataclasses.asdict(analysis))


def oil_analyses(
    *, conn: psycopg.Connection, vehicle_id: int, limit: int, cursor: str | None
) -> OilAnalysisPage:
    """The vehicle's oil analyses, newest recorded first."""
    before = None if cursor is None else decode_cursor(cursor)
    # The columns are the stored analysis' fields, each read into the field of its name.
    columns = sql.SQL(", ").join(
        sql.Identifier(f.name) for f in dataclasses.fields(oil_analysis.OilAnalysis)
    )
    rows = records(
        conn,
        oil_analysis.OilAnalysis,
        sql.SQL(
            "SELECT {} FROM oil_analyses WHERE vehicle_id = %s "
            "AND (%s::bigint IS NULL OR analysis_id < %s) ORDER BY analysis_id DESC LIMIT %s"
        ).format(columns),
        (vehicle_id, before, before, limit + 1),
    )
    rows, cursor_after = _page(rows, limit, attrgetter("analysis_id"))
    return OilAnalysisPage(
        items=[_analysis_out(r) for r in rows],
        next_cursor=cursor_after,
    )
