# SPDX-License-Identifier: MIT
"""Dispatch: from a proposed order to a shop that accepted it.

- ``propose``: match the order (and the orders bundled with it) to ranked shops, store the
  ranking with each shop's score breakdown and the estimate of the best one. With the owner's
  consent given in advance (``auto_book``) dispatch starts at once; otherwise the order waits
  for ``owner_confirm``, where the owner may pick another proposed shop.
- Modes: ``auto`` assigns the best shop outright; ``sequential`` offers to one shop at a time,
  moving to the next on a decline or a timeout; ``broadcast`` offers to k shops at once, and
  the first to accept wins: a partial unique index on accepted offers lets exactly one
  acceptance of an order commit, whatever the timing.
- ``respond``: a shop accepts or declines its offer. Declines and timeouts cascade to the next
  candidates until ``max_offers`` shops were asked; then the order is declined.
- ``schedule``: the accepted shop books a slot before the due date (or, when no shop had one,
  the earliest in ``fallback_window``).

Every function takes ``now``: the clock is the caller's, so tests drive time explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb

from orders.errors import IllegalTransition, OfferClosed, OfferLost, OrderNotFound, OrdersError
from orders.jobs import CATALOGUE, REAR_PADS
from orders.lifecycle import record_event, transition
from orders.matching import MatchRequest, match_shops
from orders.scoring import MatchWeights
from orders.slots import Slot, book_slot, release_slot

Mode = Literal["auto", "sequential", "broadcast"]
Consent = Literal["auto_book", "propose"]
CAPABILITY_OF_JOB = {job.job_code: job.capability for job in (*CATALOGUE.values(), REAR_PADS)}
EV_FUELS = ("electric", "hybrid")
# The shortest booking window offered, even for a job already due.
MIN_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class DispatchPolicy:
    """How orders are dispatched; the defaults are the platform's."""

    mode: Mode = "sequential"
    k: int = 3  # shops per broadcast wave
    max_offers: int = 6  # shops asked before the order is declined
    shop_response: timedelta = timedelta(minutes=5)
    appointment_confirmation: timedelta = timedelta(hours=24)
    radius_km: float = 50.0
    candidates: int = 10
    # When no shop has a slot before the due date, look this far ahead instead.
    fallback_window: timedelta = timedelta(days=14)
    weights: MatchWeights = field(default_factory=MatchWeights)


@dataclass(frozen=True)
class Offer:
    """An order offered to a shop."""

    offer_id: int
    order_id: int
    shop_id: int
    expires_at: datetime


def _order(conn: psycopg.Connection, order_id: int) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT o.order_id, o.status, o.vehicle_id, o.due_by, o.match, o.dispatch_mode, "
        "v.home_lat, v.home_lon, v.fuel_type, o.bundle_id, o.shop_id, o.consent "
        "FROM service_orders o JOIN vehicles v USING (vehicle_id) WHERE o.order_id = %s",
        (order_id,),
    ).fetchone()
    if row is None:
        raise OrderNotFound(order_id)
    return tuple(row)


def _jobs(conn: psycopg.Connection, order_id: int) -> list[str]:
    """Job codes of an order and the orders bundled with it."""
    rows = conn.execute(
        "SELECT job_code FROM service_orders WHERE order_id = %s OR bundle_id = %s "
        "ORDER BY order_id",
        (order_id, order_id),
    ).fetchall()
    return [r[0] for r in rows]


def propose(
    *,
    conn: psycopg.Connection,
    order_id: int,
    now: datetime,
    policy: DispatchPolicy,
    consent: Consent = "propose",
) -> list[dict[str, Any]]:
    """Rank shops for the order, store the ranking and the best shop's estimate; start dispatch
    when the owner consented in advance. Returns the ranking (best first)."""
    order = _order(conn, order_id)
    if order[1] != "proposed":
        raise IllegalTransition(order_id, order[1], "proposed")
    if order[9] is not None:
        raise OrdersError(f"order {order_id} is bundled into order {order[9]}; propose that")
    if order[6] is None or order[7] is None:
        raise OrdersError(f"order {order_id}: the vehicle has no usual location to match from")
    jobs = _jobs(conn, order_id)
    capabilities = sorted({CAPABILITY_OF_JOB.get(j, "diagnostics") for j in jobs})
    if order[8] in EV_FUELS:  # high-voltage systems need a certified workshop
        capabilities.append("ev_high_voltage")
    request = MatchRequest(
        lat=order[6],
        lon=order[7],
        capabilities=tuple(capabilities),
        job_codes=tuple(jobs),
        after=now,
        before=max(order[3] or now, now + MIN_WINDOW),
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
    policy: DispatchPolicy,
    shop_id: int | None = None,
) -> None:
    """The owner accepts the proposal, optionally picking another proposed shop; dispatch
    starts with that shop first."""
    order = _order(conn, order_id)
    if order[1] != "proposed":
        raise IllegalTransition(order_id, order[1], "offered")
    ranked = list((order[4] or {}).get("ranked", []))
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
        kind="transition",
        reason=f"owner confirmed{' and chose shop ' + str(shop_id) if shop_id else ''}",
    )
    start(conn=conn, order_id=order_id, now=now, policy=policy, actor="owner")


def _offered_shops(conn: psycopg.Connection, order_id: int) -> set[int]:
    rows = conn.execute("SELECT shop_id FROM service_offers WHERE order_id = %s", (order_id,))
    return {int(r[0]) for r in rows.fetchall()}


def start(
    *, conn: psycopg.Connection, order_id: int, now: datetime, policy: DispatchPolicy, actor: str
) -> list[Offer]:
    """Begin dispatch in the policy's mode: assign, or send the first wave of offers."""
    order = _order(conn, order_id)
    ranked = (order[4] or {}).get("ranked", [])
    if not ranked:
        raise OrdersError(f"order {order_id} has no proposed shops; call propose first")
    if (order[5] or policy.mode) == "auto":
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
        return []
    return _next_wave(conn, order_id=order_id, now=now, policy=policy, actor=actor)


def _next_wave(
    conn: psycopg.Connection, *, order_id: int, now: datetime, policy: DispatchPolicy, actor: str
) -> list[Offer]:
    """Offer the order to the next candidates not asked yet; decline it when none are left."""
    order = _order(conn, order_id)
    # The mode chosen when the order was proposed holds through its cascades, whichever
    # process (API, timer sweep) continues them.
    mode = order[5] or policy.mode
    asked = _offered_shops(conn, order_id)
    ranked = [r for r in (order[4] or {}).get("ranked", []) if r["shop_id"] not in asked]
    size = 1 if mode == "sequential" else policy.k
    wave = ranked[: min(size, policy.max_offers - len(asked))]
    if not wave:
        transition(
            conn,
            order_id=order_id,
            to="declined",
            actor="system",
            now=now,
            reason=f"no shop accepted ({len(asked)} asked)",
        )
        return []
    offers = []
    with conn.transaction():
        for r in wave:
            row = conn.execute(
                "INSERT INTO service_offers (order_id, shop_id, mode, rank, offered_at, "
                "expires_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING offer_id",
                (order_id, r["shop_id"], mode, r["rank"], now, now + policy.shop_response),
            ).fetchone()
            assert row is not None
            offers.append(Offer(int(row[0]), order_id, r["shop_id"], now + policy.shop_response))
        names = ", ".join(r["name"] for r in wave)
        deadline = now + policy.shop_response
        transition(
            conn,
            order_id=order_id,
            to="offered",
            actor=actor,
            now=now,
            reason=f"{mode} offer to {names}, answer by {deadline.isoformat()}",
        )
    return offers


def _update_response_stats(conn: psycopg.Connection, shop_id: int) -> None:
    conn.execute(
        "UPDATE shops SET (responses, response_median_s, response_p90_s) = ("
        "  SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY s), "
        "         percentile_cont(0.9) WITHIN GROUP (ORDER BY s) FROM ("
        "    SELECT extract(epoch FROM responded_at - offered_at) AS s FROM service_offers "
        "    WHERE shop_id = %(shop)s AND response IN ('accepted', 'declined') "
        "    AND mode <> 'auto') r) "
        "WHERE shop_id = %(shop)s",
        {"shop": shop_id},
    )


def respond(
    *,
    conn: psycopg.Connection,
    offer_id: int,
    accept: bool,
    now: datetime,
    policy: DispatchPolicy,
    reason: str = "",
) -> list[Offer]:
    """A shop answers its offer. Accepting wins the order or raises OfferLost; declining
    cascades to the next shops. Returns the offers the cascade sent."""
    answer = "accepted" if accept else "declined"
    try:
        with conn.transaction():
            # Answers to offers of one order queue on the order's row lock, so the later one
            # sees the earlier's outcome (and never deadlocks against its withdrawals); the
            # unique index on accepted offers is what guarantees a single winner regardless.
            conn.execute(
                "SELECT 1 FROM service_orders WHERE order_id = "
                "(SELECT order_id FROM service_offers WHERE offer_id = %s) FOR UPDATE",
                (offer_id,),
            )
            row = conn.execute(
                "UPDATE service_offers SET response = %s, responded_at = %s "
                "WHERE offer_id = %s AND response IS NULL AND expires_at > %s "
                "RETURNING order_id, shop_id",
                (answer, now, offer_id, now),
            ).fetchone()
            if row is None:
                raise _closed(conn, offer_id)
            order_id, shop_id = int(row[0]), int(row[1])
            _update_response_stats(conn, shop_id)
            actor = f"shop:{shop_id}"
            if accept:
                conn.execute(
                    "UPDATE service_offers SET response = 'withdrawn', responded_at = %s "
                    "WHERE order_id = %s AND response IS NULL",
                    (now, order_id),
                )
                transition(
                    conn,
                    order_id=order_id,
                    to="accepted",
                    actor=actor,
                    now=now,
                    reason=reason or "shop accepted the offer",
                    set_fields={
                        "shop_id": shop_id,
                        "confirm_due_at": now + policy.appointment_confirmation,
                    },
                )
                return []
            record_event(
                conn,
                order_id=order_id,
                status="offered",
                actor=actor,
                at=now,
                kind="offer",
                reason=f"declined{': ' + reason if reason else ''}",
                shop_id=shop_id,
            )
    except psycopg.errors.UniqueViolation as exc:
        # Another shop's acceptance of this order committed first (service_offers_one_accepted).
        raise OfferLost(f"offer {offer_id}: another shop accepted the order first") from exc
    return cascade(conn=conn, order_id=order_id, now=now, policy=policy)


def _closed(conn: psycopg.Connection, offer_id: int) -> OfferClosed:
    row = conn.execute(
        "SELECT response, EXISTS (SELECT 1 FROM service_offers o WHERE o.order_id = f.order_id "
        "AND o.response = 'accepted') FROM service_offers f WHERE offer_id = %s",
        (offer_id,),
    ).fetchone()
    if row is None:
        return OfferClosed(f"no offer {offer_id}")
    if row[1]:
        return OfferLost(f"offer {offer_id}: another shop accepted the order first")
    return OfferClosed(f"offer {offer_id} is closed ({row[0] or 'expired'})")


def cascade(
    *, conn: psycopg.Connection, order_id: int, now: datetime, policy: DispatchPolicy
) -> list[Offer]:
    """Send the next wave when no offer of the order is pending and none was accepted."""
    pending = conn.execute(
        "SELECT count(*) FILTER (WHERE response IS NULL), "
        "count(*) FILTER (WHERE response = 'accepted') FROM service_offers WHERE order_id = %s",
        (order_id,),
    ).fetchone()
    assert pending is not None
    status = _order(conn, order_id)[1]
    if pending[0] or pending[1] or status != "offered":
        return []
    return _next_wave(conn, order_id=order_id, now=now, policy=policy, actor="system")


def _window_end(order: tuple[Any, ...], now: datetime) -> datetime:
    """The end of the booking window the shop was matched in (past the due date when nobody
    had a slot before it)."""
    window = ((order[4] or {}).get("request") or {}).get("before")
    return max(datetime.fromisoformat(window) if window else order[3] or now, now + MIN_WINDOW)


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
    order = _order(conn, order_id)
    if order[1] != "accepted":
        raise IllegalTransition(order_id, order[1], "scheduled")
    before = _window_end(order, now)
    with conn.transaction():
        slot = book_slot(
            conn=conn,
            shop_id=order[10],
            order_id=order_id,
            after=now,
            before=before,
            slot_id=slot_id,
        )
        if slot is None:
            raise OrdersError(
                f"order {order_id}: shop {order[10]} has no free slot by {before}"
                if slot_id is None
                else f"order {order_id}: slot {slot_id} is not a free slot of shop {order[10]}"
            )
        transition(
            conn,
            order_id=order_id,
            to="scheduled",
            actor=actor,
            now=now,
            reason=f"booked {slot.starts_at.isoformat()}",
            set_fields={"slot_id": slot.slot_id, "service_due_at": slot.ends_at},
        )
    return slot.starts_at


def cancel(
    *, conn: psycopg.Connection, order_id: int, now: datetime, actor: str, reason: str
) -> None:
    """Cancel an order: its slot is freed and its pending offers withdrawn."""
    with conn.transaction():
        transition(conn, order_id=order_id, to="cancelled", actor=actor, now=now, reason=reason)
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
    order = _order(conn, order_id)
    before = _window_end(order, now)
    rows = conn.execute(
        "SELECT slot_id, shop_id, starts_at, ends_at FROM shop_slots WHERE shop_id = %s "
        "AND order_id IS NULL AND starts_at >= %s AND ends_at <= %s "
        "ORDER BY starts_at, bay LIMIT %s",
        (order[10], now, before, limit),
    ).fetchall()
    return [Slot(int(r[0]), int(r[1]), r[2], r[3]) for r in rows]
