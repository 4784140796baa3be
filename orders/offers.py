# SPDX-License-Identifier: MIT
"""Offers to shops: waves of offers, answers, and the cascade to the next shops.

A sequential order is offered to one shop at a time, a broadcast one to ``k`` at once. An
acceptance wins the order in one transaction; a partial unique index on accepted offers lets
exactly one acceptance of an order commit, whatever the timing, and the loser gets
``OfferLost``. Declines and expired offers (``sla.check_timers``) cascade to the next ranked
shops until ``max_offers`` were asked; then the order is declined.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from db.rows import a_dict, scalar, scalars
from orders import approval
from orders.errors import OfferClosed, OfferLost
from orders.lifecycle import record_event, transition
from orders.policy import Offer, PlacementPolicy, load_order


def _offered_shops(conn: psycopg.Connection, order_id: int) -> set[int]:
    shops = scalars(conn, "SELECT shop_id FROM service_offers WHERE order_id = %s", (order_id,))
    return {int(s) for s in shops}


def next_wave(
    conn: psycopg.Connection, *, order_id: int, now: datetime, policy: PlacementPolicy, actor: str
) -> list[Offer]:
    """Offer the order to the next candidates not asked yet; decline it when none are left."""
    order = load_order(conn, order_id)
    # The mode chosen when the order was proposed holds through its cascades, whichever
    # process (API, timer sweep) continues them.
    mode = order.dispatch_mode or policy.mode
    asked = _offered_shops(conn, order_id)
    ranked = [r for r in order.match.get("ranked", []) if r["shop_id"] not in asked]
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
            offer_id = scalar(
                conn,
                "INSERT INTO service_offers (order_id, shop_id, mode, rank, offered_at, "
                "expires_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING offer_id",
                (order_id, r["shop_id"], mode, r["rank"], now, now + policy.shop_response),
            )
            assert offer_id is not None
            offers.append(Offer(int(offer_id), order_id, r["shop_id"], now + policy.shop_response))
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
    policy: PlacementPolicy,
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
            row = a_dict(
                conn,
                "UPDATE service_offers SET response = %s, responded_at = %s "
                "WHERE offer_id = %s AND response IS NULL AND expires_at > %s "
                "RETURNING order_id, shop_id",
                (answer, now, offer_id, now),
            )
            if row is None:
                raise _closed(conn, offer_id)
            order_id, shop_id = int(row["order_id"]), int(row["shop_id"])
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
                # The shop that took it may price it otherwise than the best-ranked one.
                approval.assess(conn, order_id=order_id, now=now)
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
    row = a_dict(
        conn,
        "SELECT response, EXISTS (SELECT 1 FROM service_offers o WHERE o.order_id = f.order_id "
        "AND o.response = 'accepted') AS lost FROM service_offers f WHERE offer_id = %s",
        (offer_id,),
    )
    if row is None:
        return OfferClosed(f"no offer {offer_id}")
    if row["lost"]:
        return OfferLost(f"offer {offer_id}: another shop accepted the order first")
    return OfferClosed(f"offer {offer_id} is closed ({row['response'] or 'expired'})")


def cascade(
    *, conn: psycopg.Connection, order_id: int, now: datetime, policy: PlacementPolicy
) -> list[Offer]:
    """Send the next wave when no offer of the order is pending and none was accepted."""
    offers = a_dict(
        conn,
        "SELECT count(*) FILTER (WHERE response IS NULL) AS pending, "
        "count(*) FILTER (WHERE response = 'accepted') AS accepted "
        "FROM service_offers WHERE order_id = %s",
        (order_id,),
    )
    assert offers is not None
    status = load_order(conn, order_id).status
    if offers["pending"] or offers["accepted"] or status != "offered":
        return []
    return next_wave(conn, order_id=order_id, now=now, policy=policy, actor="system")
