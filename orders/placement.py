# SPDX-License-Identifier: MIT
"""Placement: from a proposed order to a shop that accepted it.

- ``propose``: match the order (and the orders bundled with it) to ranked shops, store the
  ranking with each shop's score breakdown and the estimate of the best one. With the owner's
  consent given in advance (``auto_book``) placement starts at once; otherwise the order waits
  for ``owner_confirm``, where the owner may pick another proposed shop.
- Modes: ``auto`` assigns the best shop outright; ``sequential`` offers to one shop at a time,
  moving to the next on a decline or a timeout; ``broadcast`` offers to k shops at once, and
  the first to accept wins: a partial unique index on accepted offers lets exactly one
  acceptance of an order commit, whatever the timing.
- Offers, answers and cascades are in ``offers.py``; the policy in ``policy.py``.
- ``schedule``: the accepted shop books a slot before the due date (or, when no shop had one,
  the earliest in ``fallback_window``).

Every function takes ``now``: the clock is the caller's, so tests drive time explicitly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from db.rows import records
from orders import approval
from orders.errors import IllegalTransition, OrdersError
from orders.jobs import CATALOGUE, REAR_PADS
from orders.lifecycle import record_event, transition
from orders.matching import MatchRequest, match_shops
from orders.offers import next_wave
from orders.policy import (
    MIN_WINDOW,
    Consent,
    Offer,
    PlacementOrder,
    PlacementPolicy,
    bundle_jobs,
    load_order,
    window_end,
)
from orders.slots import Slot, book_slot, release_slot

CAPABILITY_OF_JOB = {job.job_code: job.capability for job in (*CATALOGUE.values(), REAR_PADS)}
EV_FUELS = ("electric", "hybrid")
NO_APPOINTMENT = {
    "appointment_starts_at": None,
    "appointment_ends_at": None,
    "appointment_bay": None,
}


def appointment(slot: Slot) -> dict[str, Any]:
    """The order's appointment fields for a booked slot (the shop is the order's)."""
    return {
        "appointment_starts_at": slot.starts_at,
        "appointment_ends_at": slot.ends_at,
        "appointment_bay": slot.bay,
    }


def propose(
    *,
    conn: psycopg.Connection,
    order_id: int,
    now: datetime,
    policy: PlacementPolicy,
    consent: Consent = "propose",
) -> list[dict[str, Any]]:
    """Rank shops for the order, store the ranking and the best shop's estimate; start placement
    when the owner consented in advance. Returns the ranking (best first)."""
    order = load_order(conn, order_id)
    if order.status != "proposed":
        raise IllegalTransition(order_id, order.status, "proposed")
    if order.bundle_id is not None:
        raise OrdersError(f"order {order_id} is bundled into order {order.bundle_id}; propose that")
    if order.home_lat is None or order.home_lon is None:
        raise OrdersError(f"order {order_id}: the vehicle has no usual location to match from")
    jobs = bundle_jobs(conn, order_id)
    capabilities = sorted({CAPABILITY_OF_JOB.get(j, "diagnostics") for j in jobs})
    if order.fuel_type in EV_FUELS:  # high-voltage systems need a certified workshop
        capabilities.append("ev_high_voltage")
    request = MatchRequest(
        lat=order.home_lat,
        lon=order.home_lon,
        capabilities=tuple(capabilities),
        job_codes=tuple(jobs),
        after=now,
        before=max(order.due_by or now, now + MIN_WINDOW),
        radius_km=policy.radius_km,
        limit=policy.candidates,
    )
    found = match_shops(conn=conn, request=request, weights=policy.weights)
    if not found and request.before < now + policy.fallback_window:
        # Nobody has a slot before the due date: a job that is due still has to be done, so
        # take the earliest slots after it rather than none (the match records the window).
        request = replace(request, before=now + policy.fallback_window)
        found = match_shops(conn=conn, request=request, weights=policy.weights)
    ranked = [
        {"shop_id": c.shop_id, "name": c.name, "rank": i + 1, **breakdown}
        for i, (c, breakdown) in enumerate(found)
    ]
    best = ranked[0] if ranked else None
    match = {
        "request": {
            "capabilities": capabilities,
            "jobs": jobs,
            "before": request.before.isoformat(),
        },
        "ranked": ranked,
    }
    estimate = None
    if best is not None and best["inputs"]["price"] is not None:
        estimate = {
            "total": best["inputs"]["price"],
            "currency": best["inputs"]["currency"],
            "jobs": jobs,
        }
    conn.execute(
        "UPDATE service_orders SET match = %s, estimate = %s, consent = %s, dispatch_mode = %s, "
        "shop_id = COALESCE(%s, shop_id), distance_km = COALESCE(%s, distance_km), "
        "updated_at = %s WHERE order_id = %s",
        (
            Jsonb(match),
            Jsonb(estimate) if estimate else None,
            consent,
            policy.mode,
            best and best["shop_id"],
            best and best["inputs"]["distance_km"],
            now,
            order_id,
        ),
    )
    if ranked:
        # The fleet's policy sees the estimate now, before any shop is asked.
        approval.assess(conn, order_id=order_id, now=now)
    if not ranked:
        transition(
            conn,
            order_id=order_id,
            to="declined",
            actor="system",
            now=now,
            reason="no capable shop with a free slot before the due date",
        )
    elif consent == "auto_book":
        start(conn=conn, order_id=order_id, now=now, policy=policy, actor="system")
    return ranked


def owner_confirm(
    *,
    conn: psycopg.Connection,
    order_id: int,
    now: datetime,
    policy: PlacementPolicy,
    shop_id: int | None = None,
) -> None:
    """The owner accepts the proposal, optionally picking another proposed shop; placement
    starts with that shop first."""
    order = load_order(conn, order_id)
    if order.status != "proposed":
        raise IllegalTransition(order_id, order.status, "offered")
    ranked = list(order.match.get("ranked", []))
    if shop_id is not None:
        chosen = [r for r in ranked if r["shop_id"] == shop_id]
        if not chosen:
            raise OrdersError(f"shop {shop_id} was not among the shops proposed for {order_id}")
        ranked = chosen + [r for r in ranked if r["shop_id"] != shop_id]
        conn.execute(
            "UPDATE service_orders SET match = jsonb_set(match, '{ranked}', %s), shop_id = %s "
            "WHERE order_id = %s",
            (Jsonb(ranked), shop_id, order_id),
        )
    record_event(
        conn,
        order_id=order_id,
        status="proposed",
        actor="owner",
        at=now,
        kind="consent",
        reason=f"owner confirmed{' and chose shop ' + str(shop_id) if shop_id else ''}",
    )
    start(conn=conn, order_id=order_id, now=now, policy=policy, actor="owner")


def start(
    *, conn: psycopg.Connection, order_id: int, now: datetime, policy: PlacementPolicy, actor: str
) -> list[Offer]:
    """Begin placement in the policy's mode: assign, or send the first wave of offers."""
    order = load_order(conn, order_id)
    ranked = order.match.get("ranked", [])
    if not ranked:
        raise OrdersError(f"order {order_id} has no proposed shops; call propose first")
    if (order.dispatch_mode or policy.mode) == "auto":
        best = ranked[0]
        with conn.transaction():
            conn.execute(
                "INSERT INTO service_offers (order_id, shop_id, mode, rank, offered_at, "
                "expires_at, responded_at, response) VALUES (%s, %s, 'auto', 1, %s, %s, %s, "
                "'accepted')",
                (order_id, best["shop_id"], now, now, now),
            )
            transition(
                conn,
                order_id=order_id,
                to="accepted",
                actor=actor,
                now=now,
                reason=f"auto-assigned to {best['name']} (score {best['total']})",
                set_fields={
                    "shop_id": best["shop_id"],
                    "confirm_due_at": now + policy.appointment_confirmation,
                },
            )
            approval.assess(conn, order_id=order_id, now=now)
        return []
    return next_wave(conn, order_id=order_id, now=now, policy=policy, actor=actor)


def _book(
    conn: psycopg.Connection, order: PlacementOrder, *, now: datetime, slot_id: int | None
) -> Slot:
    """Book the order's shop's earliest free slot in its booking window, or the one picked;
    OrdersError (the caller's transaction rolls back) when there is none."""
    assert order.shop_id is not None
    before = window_end(order, now)
    slot = book_slot(
        conn=conn,
        shop_id=order.shop_id,
        order_id=order.order_id,
        after=now,
        before=before,
        slot_id=slot_id,
    )
    if slot is None:
        raise OrdersError(
            f"order {order.order_id}: shop {order.shop_id} has no free slot by {before}"
            if slot_id is None
            else f"order {order.order_id}: slot {slot_id} is not a free slot of shop "
            f"{order.shop_id}"
        )
    return slot


def schedule(
    *,
    conn: psycopg.Connection,
    order_id: int,
    now: datetime,
    actor: str,
    slot_id: int | None = None,
) -> datetime:
    """Book the accepted shop's earliest free slot before the due date, or the free slot the
    owner picked (``slot_id``, one of ``free_slots``); the slot's start."""
    order = load_order(conn, order_id)
    if order.status != "accepted" or order.shop_id is None:
        raise IllegalTransition(order_id, order.status, "scheduled")
    with conn.transaction():
        slot = _book(conn, order, now=now, slot_id=slot_id)
        transition(
            conn,
            order_id=order_id,
            to="scheduled",
            actor=actor,
            now=now,
            reason=f"booked {slot.starts_at.isoformat()}",
            set_fields={"slot_id": slot.slot_id, "service_due_at": slot.ends_at}
            | appointment(slot),
        )
    return slot.starts_at


def reschedule(
    *,
    conn: psycopg.Connection,
    order_id: int,
    now: datetime,
    actor: str,
    slot_id: int | None = None,
    reason: str = "",
) -> datetime:
    """Move a scheduled visit to another free slot of the same shop (the one picked, or the
    earliest in the booking window); the new slot's start. Without a free slot nothing
    changes: the order keeps its visit."""
    order = load_order(conn, order_id)
    if order.status != "scheduled" or order.shop_id is None:
        raise IllegalTransition(order_id, order.status, "scheduled")
    with conn.transaction():
        release_slot(conn=conn, order_id=order_id)
        slot = _book(conn, order, now=now, slot_id=slot_id)
        # The visit moves with its bundled jobs.
        conn.execute(
            "UPDATE service_orders SET slot_id = %(slot)s, service_due_at = %(ends)s, "
            "appointment_starts_at = %(starts)s, appointment_ends_at = %(ends)s, "
            "appointment_bay = %(bay)s, updated_at = %(now)s "
            "WHERE order_id = %(order)s OR bundle_id = %(order)s",
            {
                "slot": slot.slot_id,
                "starts": slot.starts_at,
                "ends": slot.ends_at,
                "bay": slot.bay,
                "now": now,
                "order": order_id,
            },
        )
        record_event(
            conn,
            order_id=order_id,
            status="scheduled",
            from_status="scheduled",
            kind="reschedule",
            actor=actor,
            reason=f"moved to {slot.starts_at.isoformat()}" + (f": {reason}" if reason else ""),
            at=now,
            shop_id=order.shop_id,
        )
    return slot.starts_at


def cancel(
    *, conn: psycopg.Connection, order_id: int, now: datetime, actor: str, reason: str
) -> None:
    """Cancel an order: its slot is freed and its pending offers withdrawn."""
    with conn.transaction():
        transition(
            conn,
            order_id=order_id,
            to="cancelled",
            actor=actor,
            now=now,
            reason=reason,
            set_fields=NO_APPOINTMENT,
        )
        release_slot(conn=conn, order_id=order_id)
        conn.execute(
            "UPDATE service_offers SET response = 'withdrawn', responded_at = %s "
            "WHERE order_id = %s AND response IS NULL",
            (now, order_id),
        )


def free_slots(
    *, conn: psycopg.Connection, order_id: int, now: datetime, limit: int = 20
) -> list[Slot]:
    """The free slots of the order's shop in its booking window, earliest first."""
    order = load_order(conn, order_id)
    before = window_end(order, now)
    return records(
        conn,
        Slot,
        "SELECT slot_id, shop_id, starts_at, ends_at, bay FROM shop_slots WHERE shop_id = %s "
        "AND order_id IS NULL AND starts_at >= %s AND ends_at <= %s "
        "ORDER BY starts_at, bay LIMIT %s",
        (order.shop_id, now, before, limit),
    )
