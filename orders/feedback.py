# SPDX-License-Identifier: MIT
"""The visit and what flows back from it.

``check_in`` and ``start_service`` move a scheduled order through the workshop. ``complete``
records the shop's report (work, parts, cost, measured pad thickness per axle, whether the oil
was changed and at which odometer) and feeds it back:

- the vehicle's service baseline (``vehicles.oil_changed_at`` / ``oil_changed_odometer_km``,
  ``pads_measured_at`` / ``pad_front_mm`` / ``pad_rear_mm`` / ``pads_measured_odometer_km``),
  from which the predictive evaluator restarts its oil-life and brake-wear models;
- a fresh prediction of each serviced model at once (``evaluate_vehicle`` restarts it from the
  new baseline: oil life 100 % from that odometer, the measured pad thickness), so the health
  shows the service without waiting for the car's next readings;
- the serviced components' open alerts are resolved;
- the shop's completed and on-time counts.

A day after completion the owner is offered a 0-10 recommendation survey (``survey``), answered
once, with a comment if they like (kept in the order's history); its answers make up the
shop's ``survey_mean``, part of its quality score in matching.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, model_validator

from db.registry import odometer_below
from db.rows import a_dict, record, scalars
from orders.approval import require_approved
from orders.errors import IllegalTransition, ImplausibleReport, OrderNotFound, OrdersError
from orders.lifecycle import record_event, transition
from predictive.brakes import NEW_PAD_MM
from predictive.evaluator import evaluate_vehicle
from predictive.health import BRAKE_MODEL, OIL_MODEL

SURVEY_DELAY = timedelta(days=1)
COMMENT_MAX = 500  # characters of a survey's comment, as long as a cancellation's reason
# How long a job is expected to take when its slot gives no end: in-service overdue after.
DEFAULT_SERVICE_TIME = timedelta(hours=2)
TECHNICIAN_MAX = 120  # characters of the technician's name (the column's check)


class WorkReport(BaseModel):
    """What the shop did and measured."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "work_done": "Oil and filter changed, front pads measured",
                    "parts": [
                        {
                            "part": "engine oil 5W-30",
                            "part_number": "OIL-5W30-5L",
                            "batch": "L2311-07",
                            "quantity": 4.5,
                            "unit": "l",
                        }
                    ],
                    "cost": "89.00",
                    "currency": "EUR",
                    "odometer_km": 48250.0,
                    "oil_changed": True,
                    "pad_front_mm": 6.0,
                    "pad_rear_mm": 8.1,
                    "labour_h": 0.8,
                    "technician": "J. Weber",
                }
            ]
        },
        extra="forbid",
    )

    work_done: Annotated[str, Field(min_length=1)]
    parts: list[dict[str, Any]] = []
    cost: Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    odometer_km: Annotated[float | None, Field(ge=0)] = None
    oil_changed: bool = False
    # An oil sample was drawn for used-oil analysis; the lab's result comes later through
    # POST /vehicles/{id}/oil-analyses.
    oil_sampled: bool = False
    pad_front_mm: Annotated[float | None, Field(ge=0, le=30)] = None
    pad_rear_mm: Annotated[float | None, Field(ge=0, le=30)] = None
    # Hours of work charged, and who did it (the job card asks for both; older callers of the
    # API leave them out). A part's dict may carry its ``part_number`` and ``batch``.
    labour_h: Annotated[float | None, Field(ge=0, le=1000)] = None
    technician: Annotated[str | None, Field(min_length=1, max_length=TECHNICIAN_MAX)] = None

    @model_validator(mode="after")
    def _odometer_with_service(self) -> WorkReport:
        measured = self.pad_front_mm is not None or self.pad_rear_mm is not None
        if (self.oil_changed or measured) and self.odometer_km is None:
            raise ValueError("an oil change or a pad measurement needs the odometer reading")
        if (self.pad_front_mm is None) != (self.pad_rear_mm is None):
            raise ValueError("measure the pads of both axles")
        return self


def check_in(*, conn: psycopg.Connection, order_id: int, now: datetime, actor: str) -> None:
    """The vehicle arrived at the shop (not while the order waits for its fleet's approval or
    was rejected: ``AwaitingApproval``)."""
    with conn.transaction():
        require_approved(conn, order_id=order_id)
        transition(conn, order_id=order_id, to="checked_in", actor=actor, now=now, reason="arrived")


def start_service(*, conn: psycopg.Connection, order_id: int, now: datetime, actor: str) -> None:
    """Work began; it is overdue after the booked slot's end (or the default time)."""
    row = a_dict(conn, "SELECT service_due_at FROM service_orders WHERE order_id = %s", (order_id,))
    if row is None:
        raise OrderNotFound(order_id)
    # Work starting after the slot ended gets the default time from now.
    booked = row["service_due_at"]
    due = booked if booked is not None and booked > now else now + DEFAULT_SERVICE_TIME
    with conn.transaction():
        require_approved(conn, order_id=order_id)
        transition(
            conn,
            order_id=order_id,
            to="in_service",
            actor=actor,
            now=now,
            reason="work started",
            set_fields={"service_due_at": due},
        )


def complete(
    *, conn: psycopg.Connection, order_id: int, now: datetime, report: WorkReport, actor: str
) -> None:
    """Record the shop's report, close the order, and feed the results back."""
    with conn.transaction():
        row = a_dict(
            conn,
            "SELECT status, shop_id, vehicle_id, service_due_at FROM service_orders "
            "WHERE order_id = %s FOR UPDATE",
            (order_id,),
        )
        if row is None:
            raise OrderNotFound(order_id)
        status, shop_id, vehicle_id = row["status"], row["shop_id"], row["vehicle_id"]
        service_due = row["service_due_at"]
        if status != "in_service":
            raise IllegalTransition(order_id, status, "completed")
        require_approved(conn, order_id=order_id)
        _check_plausible(conn, vehicle_id=vehicle_id, report=report)
        on_time = service_due is None or now <= service_due
        conn.execute(
            "INSERT INTO service_reports (order_id, shop_id, work_done, parts, cost, currency, "
            "odometer_km, oil_changed, pad_front_mm, pad_rear_mm, on_time, reported_at, labour_h, "
            "technician) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                order_id,
                shop_id,
                report.work_done,
                Jsonb(report.parts),
                report.cost,
                report.currency,
                report.odometer_km,
                report.oil_changed,
                report.pad_front_mm,
                report.pad_rear_mm,
                on_time,
                now,
                report.labour_h,
                report.technician,
            ),
        )
        transition(
            conn,
            order_id=order_id,
            to="completed",
            actor=actor,
            now=now,
            reason=f"{report.work_done} ({report.cost} {report.currency})",
        )
        _feed_vehicle(conn, vehicle_id=vehicle_id, report=report, now=now)
        _resolve_alerts(conn, order_id=order_id, report=report, now=now)
        restarted = [OIL_MODEL] * report.oil_changed + [BRAKE_MODEL] * (
            report.pad_front_mm is not None
        )
        if restarted:
            evaluate_vehicle(conn=conn, vehicle_id=vehicle_id, now=now, publish=restarted)
        conn.execute(
            "UPDATE shops SET jobs_completed = jobs_completed + 1, "
            "jobs_on_time = jobs_on_time + %(on_time)s::int, "
            "on_time_rate = (jobs_on_time + %(on_time)s::int)::real / (jobs_completed + 1) "
            "WHERE shop_id = %(shop)s",
            {"on_time": on_time, "shop": shop_id},
        )
        conn.execute(
            "INSERT INTO service_surveys (order_id, shop_id, offer_at) VALUES (%s, %s, %s)",
            (order_id, shop_id, now + SURVEY_DELAY),
        )


def _check_plausible(conn: psycopg.Connection, *, vehicle_id: int, report: WorkReport) -> None:
    """ImplausibleReport for readings that cannot be true: an odometer below the car's last
    known reading (its telemetry or an earlier service), pads thicker than new."""
    for axle, mm in (("front", report.pad_front_mm), ("rear", report.pad_rear_mm)):
        if mm is not None and mm > NEW_PAD_MM:
            raise ImplausibleReport(
                f"{axle} pads measured {mm} mm, thicker than a new pad ({NEW_PAD_MM} mm)",
                field=f"pad_{axle}_mm",
                limit=NEW_PAD_MM,
            )
    if report.odometer_km is None:
        return
    last = odometer_below(conn, vehicle_id=vehicle_id, odometer_km=report.odometer_km)
    if last is not None:
        raise ImplausibleReport(
            f"odometer {report.odometer_km:,.1f} km is below the car's last known {last:,.1f} km",
            field="odometer_km",
            limit=last,
        )


def _feed_vehicle(
    conn: psycopg.Connection, *, vehicle_id: int, report: WorkReport, now: datetime
) -> None:
    if report.oil_changed:
        conn.execute(
            "UPDATE vehicles SET oil_changed_at = %s, oil_changed_odometer_km = %s "
            "WHERE vehicle_id = %s",
            (now, report.odometer_km, vehicle_id),
        )
    if report.pad_front_mm is not None and report.pad_rear_mm is not None:
        conn.execute(
            "UPDATE vehicles SET pads_measured_at = %s, pad_front_mm = %s, pad_rear_mm = %s, "
            "pads_measured_odometer_km = %s WHERE vehicle_id = %s",
            (now, report.pad_front_mm, report.pad_rear_mm, report.odometer_km, vehicle_id),
        )


def _resolve_alerts(
    conn: psycopg.Connection, *, order_id: int, report: WorkReport, now: datetime
) -> None:
    """Resolve the open alerts of the components the visit serviced: the oil when it was
    changed, the oil-sample request when a sample was drawn (or the oil changed), the pads when
    they were measured. A measurement still below a threshold raises
    a fresh alert at the next evaluation, from the measured thickness."""
    serviced = []
    if report.oil_changed:
        serviced += ["oil_change", "oil_sample"]  # a new interval: its own sample, if any
    if report.oil_sampled:
        serviced.append("oil_sample")
    if report.pad_front_mm is not None:
        serviced.append("brake_pads")
    conn.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = %s "
        "WHERE status <> 'resolved' AND kind = ANY(%s) AND vehicle_id = "
        "(SELECT vehicle_id FROM service_orders WHERE order_id = %s)",
        (now, serviced, order_id),
    )


def due_surveys(*, conn: psycopg.Connection, now: datetime) -> list[int]:
    """Orders whose owner should now be asked the survey (a day after completion)."""
    order_ids = scalars(
        conn,
        "SELECT order_id FROM service_surveys WHERE answered_at IS NULL AND offer_at <= %s "
        "ORDER BY offer_at",
        (now,),
    )
    return [int(o) for o in order_ids]


@dataclass(frozen=True)
class Survey:
    """An order's survey: open from ``offer_at``, answered once."""

    order_id: int
    shop_id: int
    offer_at: datetime
    score: int | None
    answered_at: datetime | None

    def is_open(self, now: datetime) -> bool:
        """Whether the owner may answer it now."""
        return self.answered_at is None and self.offer_at <= now


def survey(*, conn: psycopg.Connection, order_id: int) -> Survey | None:
    """The order's survey (made at completion), or None."""
    return record(
        conn,
        Survey,
        "SELECT order_id, shop_id, offer_at, score, answered_at FROM service_surveys "
        "WHERE order_id = %s",
        (order_id,),
    )


def answer_survey(
    *, conn: psycopg.Connection, order_id: int, score: int, now: datetime, comment: str = ""
) -> None:
    """The owner's 0-10 recommendation of the shop, once; updates the shop's survey mean. A
    comment goes with the answer into the order's history, where the shop reads it."""
    if not 0 <= score <= 10:
        raise OrdersError(f"a recommendation score is 0 to 10, not {score}")
    if len(comment) > COMMENT_MAX:
        raise OrdersError(f"a comment is at most {COMMENT_MAX} characters")
    with conn.transaction():
        row = a_dict(
            conn,
            "UPDATE service_surveys SET score = %s, answered_at = %s "
            "WHERE order_id = %s AND answered_at IS NULL AND offer_at <= %s RETURNING shop_id",
            (score, now, order_id, now),
        )
        if row is None:
            raise OrdersError(f"order {order_id} has no survey open at {now.isoformat()}")
        conn.execute(
            "UPDATE shops SET (survey_count, survey_mean) = (SELECT count(*), avg(score) "
            "FROM service_surveys WHERE shop_id = %(shop)s AND score IS NOT NULL) "
            "WHERE shop_id = %(shop)s",
            {"shop": row["shop_id"]},
        )
        record_event(
            conn,
            order_id=order_id,
            status="completed",
            actor="owner",
            at=now,
            kind="feedback",
            reason=f"recommendation {score}/10" + (f": {comment}" if comment.strip() else ""),
            shop_id=row["shop_id"],
        )
