# SPDX-License-Identifier: MIT
"""A small, hand-built history of one shop (offers, visits, surveys) whose KPIs the tests
work out by hand; shared by the orders, API and web tests of the KPIs (here beside
``factories`` so each of those directories imports it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories

from orders.kpis import bucket_start

H = timedelta(hours=1)
D = timedelta(days=1)
S = timedelta(seconds=1)


def at(day: date, hours: float = 0) -> datetime:
    """``hours`` after the UTC midnight that starts ``day``."""
    return datetime.combine(day, time(), UTC) + timedelta(hours=hours)


def report(conn, order_id, shop_id, *, reported_at, cost, on_time=True, currency="EUR"):
    """The shop's report of a completed visit."""
    factories.insert(
        conn,
        "service_reports",
        "order_id",
        order_id=order_id,
        shop_id=shop_id,
        work_done="done",
        cost=cost,
        currency=currency,
        on_time=on_time,
        reported_at=reported_at,
    )


def survey(conn, order_id, shop_id, *, answered_at, score):
    """The owner's survey, answered with ``score`` (None: offered, not answered)."""
    factories.insert(
        conn,
        "service_surveys",
        "order_id",
        order_id=order_id,
        shop_id=shop_id,
        offer_at=answered_at - D,
        score=score,
        answered_at=answered_at if score is not None else None,
    )


def offered(conn, car, shop_id, *, when, response, after=None, job="OIL-CHG", status="declined"):
    """An order of ``car`` offered to the shop at ``when``, answered ``after`` later."""
    order = factories.order(conn, car, status=status, job_code=job)
    columns = {"response": response} if response else {}
    if after is not None:
        columns["responded_at"] = when + after
    factories.offer(conn, order.order_id, shop_id, offered_at=when, expires_at=when + H, **columns)
    return order.order_id


@dataclass(frozen=True)
class History:
    """The shop, its rival, and the first Monday of the three weeks the history spans."""

    shop_id: int
    rival_id: int
    monday: date


def build(conn, *, timezone: str = "UTC") -> History:
    """Three weeks of a shop (the third without anything), starting four weeks ago.

    Week 1: offers A (accepted after 60 s, completed on time, 100 EUR, survey 10), B
    (declined after 300 s), C (expired unanswered), D (withdrawn: another shop won). Car X
    has A's oil change done again by the rival 10 days later: a return.
    Week 2: offer E (accepted after 120 s, completed late, 50.50 EUR, survey 6), F (still
    open); visit G without an offer, paid in USD, on time, survey 9; an unanswered survey.
    Car Y has E's brake job done again 31 days later: not a return. The rival's own offer in
    week 1 is not this shop's, nor is an order assigned to it in auto mode an offer it
    answered.
    """
    shop = factories.shop(conn, name="Kpi Motors", timezone=timezone).shop_id
    rival = factories.shop(conn, name="Rival Garage", timezone=timezone).shop_id
    today = datetime.now(UTC).date()
    m1 = bucket_start(today, "week") - timedelta(weeks=4)
    m2 = m1 + timedelta(weeks=1)
    x, y, z, w = (factories.vehicle(conn) for _ in range(4))
    # Week 1.
    a = offered(conn, x, shop, when=at(m1, 10), response="accepted", after=60 * S, status=None)
    conn.execute(
        "UPDATE service_orders SET status = 'completed', shop_id = %s WHERE order_id = %s",
        (shop, a),
    )
    report(conn, a, shop, reported_at=at(m1 + D, 12), cost="100.00")
    survey(conn, a, shop, answered_at=at(m1 + 3 * D, 9), score=10)
    offered(conn, w, shop, when=at(m1, 11), response="declined", after=300 * S)
    offered(conn, w, shop, when=at(m1, 12), response="expired", after=H, status="expired")
    offered(conn, z, shop, when=at(m1, 13), response="withdrawn", after=30 * S)
    offered(conn, z, rival, when=at(m1, 14), response="accepted", after=5 * S)
    auto = factories.order(conn, w, status="accepted", shop_id=shop, job_code="TYRE").order_id
    factories.offer(
        conn,
        auto,
        shop,
        mode="auto",
        offered_at=at(m1, 15),
        expires_at=at(m1, 15),
        responded_at=at(m1, 15),
        response="accepted",
    )
    again = factories.order(conn, x, shop_id=rival, status="completed").order_id
    report(conn, again, rival, reported_at=at(m1 + 11 * D, 12), cost="80.00")
    # Week 2.
    e = offered(conn, y, shop, when=at(m2, 9), response="accepted", after=120 * S, job="BRK-PAD-F")
    conn.execute(
        "UPDATE service_orders SET status = 'completed', shop_id = %s WHERE order_id = %s",
        (shop, e),
    )
    report(conn, e, shop, reported_at=at(m2 + D, 12), cost="50.50", on_time=False)
    survey(conn, e, shop, answered_at=at(m2 + 3 * D, 9), score=6)
    offered(conn, w, shop, when=at(m2, 10), response=None, status="offered")
    g = factories.order(conn, z, shop_id=shop, status="completed", job_code="BRK-PAD-R").order_id
    report(conn, g, shop, reported_at=at(m2 + 2 * D, 12), cost="70.00", currency="USD")
    survey(conn, g, shop, answered_at=at(m2 + 4 * D, 9), score=9)
    h = factories.order(conn, w, shop_id=shop, status="completed", job_code="TYRE").order_id
    survey(conn, h, shop, answered_at=at(m2 + 4 * D, 10), score=None)
    later = factories.order(conn, y, shop_id=rival, status="completed", job_code="BRK-PAD-F")
    report(conn, later.order_id, rival, reported_at=at(m2 + 32 * D, 12.5), cost="90.00")
    return History(shop, rival, m1)
