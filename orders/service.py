# SPDX-License-Identifier: MIT
"""Service orders: one pre-filled order per alert, matched to the nearest capable shop.

The exceptions are in ``errors.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from db.rows import dicts, record, records, scalar, scalars
from orders.bundles import Lead, find_lead, rematch
from orders.errors import OrderNotFound, OrdersError
from orders.jobs import job_for
from orders.lifecycle import OPEN
from orders.matching import nearest_shop
from orders.placement import propose, schedule
from orders.policy import Consent, PlacementPolicy
from predictive.health import Prediction

log = logging.getLogger(__name__)

# A sanity cap for callers inside the platform; the API pages at most 200 at a time.
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Order:
    """A service order as the API and shops see it."""

    order_id: int
    vehicle_id: int
    alert_id: int | None
    status: str
    vin: str
    odometer_km: float | None
    issue: str
    evidence: dict[str, Any]
    job_code: str
    job_description: str
    parts: list[dict[str, Any]]
    shop_id: int | None
    shop_name: str | None
    distance_km: float | None
    created_at: datetime
    updated_at: datetime
    component: str | None = None
    urgency: str | None = None
    due_by: datetime | None = None
    bundle_id: int | None = None
    match: dict[str, Any] | None = None
    estimate: dict[str, Any] | None = None
    dispatch_mode: str | None = None
    consent: str | None = None
    escalated: bool = False
    appointment_starts_at: datetime | None = None
    appointment_ends_at: datetime | None = None
    appointment_bay: int | None = None
    approval: str | None = None
    approval_by: str | None = None
    approval_at: datetime | None = None
    approval_note: str | None = None


@dataclass(frozen=True, slots=True)
class _Alert:
    """An open alert with what its order is pre-filled from: the car and its position."""

    alert_id: int
    vehicle_id: int
    kind: str
    message: str
    prediction_id: int | None
    vin: str
    home_lat: float | None
    home_lon: float | None
    odometer_km: float | None
    tier: str
    evidence: dict[str, Any] | None
    created_at: datetime


def _evidence(conn: psycopg.Connection, alert: _Alert) -> dict[str, Any]:
    kind = alert.kind
    evidence: dict[str, Any] = {
        "alert_id": alert.alert_id,
        "alert_kind": kind,
        "alert": alert.message,
    }
    evidence["alert_tier"], evidence["alert_evidence"] = alert.tier, alert.evidence
    if alert.prediction_id is not None:
        # Each column read into the Prediction field of its name.
        columns = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields(Prediction))
        pred = record(
            conn,
            Prediction,
            sql.SQL("SELECT {} FROM predictions WHERE prediction_id = %s").format(columns),
            (alert.prediction_id,),
        )
        if pred is not None:
            # The running state is the model's bookkeeping, not evidence a mechanic can use.
            evidence["prediction"] = {
                "model": pred.model,
                "model_version": pred.model_version,
                "time": pred.time.isoformat(),
                "value": pred.value,
                "unit": pred.unit,
                "remaining_km": pred.remaining_km,
                **pred.summary(),
            }
    if kind == "trouble_code":
        stored = scalar(
            conn, "SELECT stored FROM vehicle_dtcs WHERE vehicle_id = %s", (alert.vehicle_id,)
        )
        evidence["trouble_codes"] = sorted(stored) if stored is not None else []
        # What each code means and what to do, as the evaluator assessed them (orders may not
        # import the code tables themselves: they pull in the wire contract).
        evidence["trouble_code_findings"] = (alert.evidence or {}).get("findings", [])
    return evidence


# Orders that ended without the work being done: they no longer serve their alert, which
# may get a new order (a rebooking).
ENDED = ("declined", "cancelled", "expired")

# A standing order of another unresolved alert of the same vehicle and kind: alerts come in
# tiers (change soon, due now, overdue), and a component gets one order, for the first tier
# raised.
SIBLING_ORDER = (
    "SELECT o.order_id FROM alerts b JOIN service_orders o ON o.alert_id = b.alert_id "
    "WHERE b.vehicle_id = %s AND b.kind = %s AND b.status <> 'resolved' "
    "AND o.status <> ALL(%s) ORDER BY o.order_id LIMIT 1"
)
# How long an order that no shop took, or that expired, rests before ordering books the
# still-open alert again by itself (a cancelled one waits for its owner: rebook or dismiss).
REBOOK_AFTER = timedelta(days=1)


# How long after the alert a job is due when the prediction projects no date, by tier.
DUE_AFTER = {
    "change_soon": timedelta(days=14),
    "due_now": timedelta(days=3),
    "overdue": timedelta(days=1),
    "sample": timedelta(days=14),
    "low": timedelta(days=30),
    "medium": timedelta(days=14),
    "high": timedelta(days=3),
    "critical": timedelta(days=1),
}


def due_by(*, tier: str, evidence: dict[str, Any], raised_at: datetime) -> datetime:
    """When the job is due: the projected date of the 'due now' tier, else a default by tier
    after the alert was raised."""
    projected = (evidence.get("projection") or {}).get("due_now") or {}
    if projected.get("date"):
        return datetime.fromisoformat(projected["date"])
    return raised_at + DUE_AFTER.get(tier, timedelta(days=14))


def _supersede_stale(
    conn: psycopg.Connection, vehicle_id: int, component: str, now: datetime
) -> None:
    """Close the open order of this component whose alert was resolved: the part was serviced
    or the condition cleared outside the order, and a new alert needs a new order."""
    stale = dicts(
        conn,
        "SELECT o.order_id, o.status FROM service_orders o JOIN alerts a USING (alert_id) "
        "WHERE o.vehicle_id = %s AND o.component = %s AND a.status = 'resolved' "
        "AND o.status = ANY(%s)",
        (vehicle_id, component, list(OPEN)),
    )
    for order in stale:
        conn.execute(
            "UPDATE service_orders SET status = 'cancelled', updated_at = %s WHERE order_id = %s",
            (now, order["order_id"]),
        )
        conn.execute(
            "INSERT INTO service_order_events (order_id, status, from_status, actor, note, at) "
            "VALUES (%s, 'cancelled', %s, 'system', 'alert resolved; superseded by a new alert', "
            "%s)",
            (order["order_id"], order["status"], now),
        )


def create_order_for_alert(
    *, conn: psycopg.Connection, alert_id: int, now: datetime | None = None
) -> int | None:
    """Create the pre-filled order for an alert (idempotent); None if the alert is unknown or
    resolved without an order. An alert whose component (vehicle and kind) already has an
    order through another unresolved tier's alert gets that order. The order is due by the
    projected date, and joins the visit of another open order of the vehicle due close by.
    ``now`` (default: the application's clock) stamps the order and its first event."""
    # One clock for the whole flow: later transitions stamp the caller's ``now`` too, so the
    # database's now() here would sort the 'proposed' event after them on a skewed clock.
    now = now or datetime.now(UTC)
    with conn.transaction():
        existing = scalar(
            conn,
            "SELECT order_id FROM service_orders WHERE alert_id = %s AND status <> ALL(%s)",
            (alert_id, list(ENDED)),
        )
        if existing is not None:
            return int(existing)
        alert = record(
            conn,
            _Alert,
            "SELECT a.alert_id, a.vehicle_id, a.kind, a.message, a.prediction_id, v.vin, "
            "v.home_lat, v.home_lon, s.odometer_km, a.tier, a.evidence, a.created_at "
            "FROM alerts a JOIN vehicles v USING (vehicle_id) "
            "LEFT JOIN vehicle_state s USING (vehicle_id) "
            "WHERE a.alert_id = %s AND a.status <> 'resolved' FOR UPDATE OF v",
            (alert_id,),
        )
        if alert is None:
            return None
        sibling = scalar(conn, SIBLING_ORDER, (alert.vehicle_id, alert.kind, list(ENDED)))
        if sibling is not None:
            return int(sibling)
        vehicle_id, component = int(alert.vehicle_id), str(alert.kind)
        _supersede_stale(conn, vehicle_id, component, now)
        evidence = _evidence(conn, alert)
        job = job_for(component, evidence.get("prediction"))
        lat, lon = alert.home_lat, alert.home_lon
        # Without a home position there is nothing to measure from; the order waits for a
        # shop to be chosen by hand.
        shop = (
            None
            if lat is None or lon is None
            else nearest_shop(conn=conn, lat=lat, lon=lon, capability=job.capability)
        )
        due = due_by(tier=alert.tier, evidence=alert.evidence or {}, raised_at=alert.created_at)
        lead = find_lead(
            conn, vehicle_id=vehicle_id, component=component, due=due, capability=job.capability
        )
        order_id = scalar(
            conn,
            "INSERT INTO service_orders (vehicle_id, alert_id, shop_id, status, vin, odometer_km, "
            "issue, evidence, job_code, job_description, parts, distance_km, component, "
            "urgency, due_by, bundle_id, created_at, updated_at) "
            "VALUES (%s, %s, %s, 'proposed', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s) "
            "ON CONFLICT DO NOTHING RETURNING order_id",
            (
                vehicle_id,
                alert_id,
                shop and shop.shop_id,
                alert.vin,
                alert.odometer_km,
                alert.message,
                Jsonb(evidence),
                job.job_code,
                job.description,
                Jsonb(job.parts_json()),
                shop and round(shop.distance_km, 3),
                component,
                alert.tier,
                due,
                lead and lead.order_id,
                now,
                now,
            ),
        )
        if order_id is None:  # a concurrent run won the race; its order stands
            again = scalar(
                conn,
                "SELECT order_id FROM service_orders WHERE alert_id = %s OR (vehicle_id = %s "
                "AND component = %s AND status = ANY(%s)) ORDER BY order_id DESC LIMIT 1",
                (alert_id, vehicle_id, component, list(OPEN)),
            )
            return None if again is None else int(again)
        # The timeline names only shops the order went to: the nearest shop is a suggestion,
        # not a shop that saw the order.
        note = (
            f"from alert {alert_id}; nearest capable shop {shop.distance_km:.1f} km away"
            if shop
            else f"from alert {alert_id}; no shop with {job.capability} found"
        )
        if lead is not None:
            note = lead.note(_shop_name(conn, lead.shop_id))
            _join(conn, int(order_id), lead, now)
        conn.execute(
            "INSERT INTO service_order_events (order_id, status, actor, note, at) "
            "VALUES (%s, %s, 'system', %s, %s)",
            (order_id, lead.status if lead else "proposed", note, now),
        )
        return int(order_id)


def _shop_name(conn: psycopg.Connection, shop_id: int | None) -> str | None:
    name = scalar(conn, "SELECT name FROM shops WHERE shop_id = %s", (shop_id,))
    return None if name is None else str(name)


def _join(conn: psycopg.Connection, order_id: int, lead: Lead, now: datetime) -> None:
    """The new order takes its lead's step, shop and appointment: one visit."""
    if lead.status == "proposed":
        rematch(conn, lead, now)
        return
    taken = {k: v for k, v in lead.fields.items() if v is not None}
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(col), sql.Placeholder(col)) for col in taken
    )
    conn.execute(
        sql.SQL(
            "UPDATE service_orders SET status = %(status)s, {} WHERE order_id = %(order_id)s"
        ).format(assignments),
        taken | {"status": lead.status, "order_id": order_id},
    )


def order_open_alerts(*, conn: psycopg.Connection, now: datetime | None = None) -> list[int]:
    """Create orders for every open alert whose component (vehicle and kind) no order serves;
    return the new orders' ids.

    An order serves while it is open or completed. One that no shop took or that expired
    stops serving ``REBOOK_AFTER`` after it ended, and ordering books the alert again by
    itself (the owner was told of the end through the order's status change). A cancelled
    order keeps serving its own alert: its owner decided, and rebooks or dismisses the alert
    (``orders.rebook``); a new tier's alert of the component gets a new order.
    """
    now = now or datetime.now(UTC)
    alert_ids = scalars(
        conn,
        "SELECT a.alert_id FROM alerts a WHERE a.status = 'open' AND NOT EXISTS ("
        "  SELECT 1 FROM alerts b JOIN service_orders s ON s.alert_id = b.alert_id "
        "  WHERE b.vehicle_id = a.vehicle_id AND b.kind = a.kind AND b.status <> 'resolved' "
        "  AND (s.status NOT IN ('declined', 'expired', 'cancelled') "
        "       OR (s.status = 'cancelled' AND b.alert_id = a.alert_id) "
        "       OR (s.status <> 'cancelled' AND s.updated_at > %s))) "
        "ORDER BY a.alert_id",
        (now - REBOOK_AFTER,),
    )
    created: list[int] = []
    for alert_id in alert_ids:
        order_id = create_order_for_alert(conn=conn, alert_id=int(alert_id), now=now)
        if order_id is not None and order_id not in created:
            created.append(order_id)
    return created


# An order as ``Order`` names it (read with ``records``/``record`` into ``Order``).
ORDER_SELECT = sql.SQL(
    "SELECT o.order_id, o.vehicle_id, o.alert_id, o.status, o.vin, o.odometer_km, o.issue, "
    "o.evidence, o.job_code, o.job_description, o.parts, o.shop_id, s.name AS shop_name, "
    "o.distance_km, "
    "o.created_at, o.updated_at, o.component, o.urgency, o.due_by, o.bundle_id, o.match, "
    "o.estimate, o.dispatch_mode, o.consent, o.escalated, o.appointment_starts_at, "
    "o.appointment_ends_at, o.appointment_bay, o.approval, o.approval_by, o.approval_at, "
    "o.approval_note "
    "FROM service_orders o LEFT JOIN shops s USING (shop_id) "
)


def list_orders(
    *,
    conn: psycopg.Connection,
    status: str | None = None,
    vehicle_id: int | None = None,
    shop_id: int | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> list[Order]:
    """Orders newest first, filtered; ``after_id`` continues after that order (keyset)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise OrdersError(f"limit must be between 1 and {MAX_LIMIT}")
    return records(
        conn,
        Order,
        ORDER_SELECT
        + sql.SQL(
            "WHERE (%(status)s::text IS NULL OR o.status = %(status)s) "
            "AND (%(vehicle_id)s::bigint IS NULL OR o.vehicle_id = %(vehicle_id)s) "
            "AND (%(shop_id)s::bigint IS NULL OR o.shop_id = %(shop_id)s) "
            "AND (%(after_id)s::bigint IS NULL OR o.order_id < %(after_id)s) "
            "ORDER BY o.order_id DESC LIMIT %(limit)s"
        ),
        {
            "status": status,
            "vehicle_id": vehicle_id,
            "shop_id": shop_id,
            "after_id": after_id,
            "limit": limit,
        },
    )


def get_order(*, conn: psycopg.Connection, order_id: int) -> Order:
    """One order; OrderNotFound if there is none with this id."""
    order = record(conn, Order, ORDER_SELECT + sql.SQL("WHERE o.order_id = %s"), (order_id,))
    if order is None:
        raise OrderNotFound(order_id)
    return order


def propose_new_orders(
    *, conn: psycopg.Connection, now: datetime, policy: PlacementPolicy, consent: Consent
) -> dict[str, list[int]]:
    """Match every proposed order not matched yet (``placement.propose``), placing it at
    once when the owner consented in advance; returns the order ids matched and unmatched
    (no capable shop with a free slot near the vehicle's usual location)."""
    done: dict[str, list[int]] = {"matched": [], "unmatched": []}
    ids = scalars(
        conn,
        "SELECT order_id FROM service_orders WHERE status = 'proposed' AND match IS NULL "
        "AND bundle_id IS NULL ORDER BY order_id",
    )
    for order_id in ids:
        ranked: list[dict[str, Any]] = []
        try:
            with conn.transaction():
                # Several runs may go at once (the demo's background one and its own
                # step, two operators): the row lock makes each order one run's, and
                # one that finds it taken or already matched leaves it alone.
                mine = scalar(
                    conn,
                    "SELECT 1 FROM service_orders WHERE order_id = %s AND status = 'proposed' "
                    "AND match IS NULL AND bundle_id IS NULL FOR UPDATE SKIP LOCKED",
                    (order_id,),
                )
                if mine is None:
                    continue
                ranked = propose(
                    conn=conn, order_id=order_id, now=now, policy=policy, consent=consent
                )
                if ranked and consent == "auto_book":
                    _book_if_accepted(conn, int(order_id), now)
        except OrdersError as exc:
            log.warning("order %s not matched: %s", order_id, exc)
        done["matched" if ranked else "unmatched"].append(int(order_id))
    return done


def _book_if_accepted(conn: psycopg.Connection, order_id: int, now: datetime) -> None:
    """An owner who consented to auto-booking gets the accepted shop's earliest free slot
    (auto-assign accepts at once; an order offered to shops one by one or in a broadcast is
    booked through the schedule step once a shop accepts)."""
    status = scalar(conn, "SELECT status FROM service_orders WHERE order_id = %s", (order_id,))
    if status != "accepted":
        return
    try:
        schedule(conn=conn, order_id=order_id, now=now, actor="system:auto-book")
    except OrdersError as exc:
        log.warning("order %s accepted but not booked: %s", order_id, exc)
