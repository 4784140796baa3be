# SPDX-License-Identifier: MIT
"""Dispatch modes, owner consent, cascades on decline and timeout (controllable clock), and the
first-accept-wins race between shops on separate connections."""

import threading
from datetime import timedelta

import psycopg
import pytest
from placement_helpers import MIN, T0, berlin_shops, open_order, policy

from orders.errors import IllegalTransition, OfferClosed, OfferLost, OrdersError
from orders.lifecycle import history
from orders.offers import respond
from orders.placement import owner_confirm, propose, schedule, start
from orders.service import propose_new_orders
from orders.sla import check_timers


def _status(conn, order_id):
    return conn.execute(
        "SELECT status, shop_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()


def _offers(conn, order_id):
    return conn.execute(
        "SELECT offer_id, shop_id, response FROM service_offers WHERE order_id = %s "
        "ORDER BY offer_id",
        (order_id,),
    ).fetchall()


def test_auto_assign_books_the_best_shop_and_stores_why(conn):
    shops = berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy(mode="auto")
    ranked = propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    assert [r["name"] for r in ranked] == ["A", "B", "C", "D", "E"]
    assert _status(conn, order_id) == ("accepted", shops["A"])
    match, confirm_due = conn.execute(
        "SELECT match, confirm_due_at FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()
    assert match["ranked"][0]["criteria"]["distance"] > match["ranked"][1]["criteria"]["distance"]
    assert match["ranked"][0]["weights"]["distance"] == 1.0
    assert confirm_due == T0 + p.appointment_confirmation
    foreign = conn.execute(
        "SELECT min(slot_id) FROM shop_slots WHERE shop_id = %s", (shops["B"],)
    ).fetchone()[0]
    with pytest.raises(OrdersError, match="not a free slot of shop"):
        schedule(conn=conn, order_id=order_id, now=T0 + MIN, actor="owner", slot_id=foreign)
    starts = schedule(conn=conn, order_id=order_id, now=T0 + MIN, actor="shop")
    assert starts == T0 + timedelta(hours=2)  # the 08:00 slot has begun: the next, at 10:00
    assert _status(conn, order_id)[0] == "scheduled"
    assert "auto-assigned to A" in history(conn, order_id)[-2][5]


def test_propose_and_wait_for_the_owner_who_may_pick_another_shop(conn):
    shops = berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy(mode="sequential")
    propose(conn=conn, order_id=order_id, now=T0, policy=p)
    assert _status(conn, order_id) == ("proposed", shops["A"])
    assert _offers(conn, order_id) == []
    with pytest.raises(OrdersError):
        owner_confirm(conn=conn, order_id=order_id, now=T0, policy=p, shop_id=424242)
    owner_confirm(conn=conn, order_id=order_id, now=T0 + MIN, policy=p, shop_id=shops["C"])
    assert [(s, r) for _, s, r in _offers(conn, order_id)] == [(shops["C"], None)]
    assert _status(conn, order_id)[0] == "offered"
    consent = [e for e in history(conn, order_id) if e[1] == "consent"]
    assert [(e[4], e[5]) for e in consent] == [
        ("owner", f"owner confirmed and chose shop {shops['C']}")
    ]
    with pytest.raises(IllegalTransition):
        owner_confirm(conn=conn, order_id=order_id, now=T0, policy=p)


def test_sequential_offers_cascade_on_decline_and_on_timeout(conn):
    shops = berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy(mode="sequential", max_offers=3)
    propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    (first,) = _offers(conn, order_id)
    assert first[1] == shops["A"]
    (second,) = respond(conn=conn, offer_id=first[0], accept=False, now=T0 + MIN, policy=p)
    assert second.shop_id == shops["B"] and second.expires_at == T0 + MIN + timedelta(minutes=5)
    # Four minutes later nothing is due; at five the shop's answer is late.
    assert check_timers(conn=conn, now=T0 + 5 * MIN, policy=p) == []
    (breach,) = check_timers(conn=conn, now=T0 + 6 * MIN, policy=p)
    assert (breach.timer, breach.due_at) == ("shop_response", second.expires_at)
    assert check_timers(conn=conn, now=T0 + 6 * MIN, policy=p) == []  # recorded once
    third = _offers(conn, order_id)[-1]
    assert third[1:] == (shops["C"], None)
    with pytest.raises(OfferClosed):  # B answers too late
        respond(conn=conn, offer_id=second.offer_id, accept=True, now=T0 + 7 * MIN, policy=p)
    # C declines; three shops were asked: the order is declined.
    assert respond(conn=conn, offer_id=third[0], accept=False, now=T0 + 8 * MIN, policy=p) == []
    assert _status(conn, order_id)[0] == "declined"
    assert [r for _, _, r in _offers(conn, order_id)] == ["declined", "expired", "declined"]
    kinds = [e[1] for e in history(conn, order_id)]
    assert kinds.count("sla_breach") == 1 and kinds.count("offer") == 2


def test_broadcast_first_accept_wins_and_the_rest_are_withdrawn(conn):
    shops = berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy(mode="broadcast", k=3)
    propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    offers = _offers(conn, order_id)
    assert [s for _, s, _ in offers] == [shops["A"], shops["B"], shops["C"]]
    respond(conn=conn, offer_id=offers[1][0], accept=True, now=T0 + MIN, policy=p)
    with pytest.raises(OfferLost):
        respond(conn=conn, offer_id=offers[0][0], accept=True, now=T0 + 2 * MIN, policy=p)
    assert _status(conn, order_id) == ("accepted", shops["B"])
    assert [r for _, _, r in _offers(conn, order_id)] == ["withdrawn", "accepted", "withdrawn"]
    # The shop's response time is now part of its statistics.
    stats = conn.execute(
        "SELECT responses, response_median_s FROM shops WHERE shop_id = %s", (shops["B"],)
    ).fetchone()
    assert stats == (1, 60.0)


def test_broadcast_declined_by_all_goes_to_the_next_wave(conn):
    shops = berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy(mode="broadcast", k=2, max_offers=4)
    propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    first_wave = _offers(conn, order_id)
    assert respond(conn=conn, offer_id=first_wave[0][0], accept=False, now=T0, policy=p) == []
    wave = respond(conn=conn, offer_id=first_wave[1][0], accept=False, now=T0, policy=p)
    assert [o.shop_id for o in wave] == [shops["C"], shops["D"]]


@pytest.mark.parametrize("round_", range(3))
def test_two_shops_accepting_at_once_exactly_one_wins(db_url, conn, round_):
    berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy(mode="broadcast", k=4)
    propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    offers = [o[0] for o in _offers(conn, order_id)]
    barrier, outcomes = threading.Barrier(len(offers)), {}

    def accept(offer_id):
        with psycopg.connect(db_url, autocommit=True) as own:
            barrier.wait()
            try:
                respond(conn=own, offer_id=offer_id, accept=True, now=T0 + MIN, policy=p)
                outcomes[offer_id] = "won"
            except OfferLost:
                outcomes[offer_id] = "lost"

    threads = [threading.Thread(target=accept, args=(o,)) for o in offers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["lost"] * (len(offers) - 1) + ["won"]
    (winner,) = [o for o, r in outcomes.items() if r == "won"]
    accepted = conn.execute(
        "SELECT offer_id FROM service_offers WHERE order_id = %s AND response = 'accepted'",
        (order_id,),
    ).fetchall()
    assert accepted == [(winner,)]


def test_the_database_alone_refuses_a_second_acceptance(db_url, conn):
    berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy(mode="broadcast", k=2)
    propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    a, b = (o[0] for o in _offers(conn, order_id))
    accept = "UPDATE service_offers SET response = 'accepted' WHERE offer_id = %s"
    with psycopg.connect(db_url) as one, psycopg.connect(db_url) as two:
        one.execute(accept, (a,))
        two.execute("SET lock_timeout = '200ms'")
        # The second waits on the first's uncommitted index entry...
        with pytest.raises(psycopg.errors.LockNotAvailable):
            two.execute(accept, (b,))
        two.rollback()
        one.commit()
        # ...and once it committed, is refused outright.
        with pytest.raises(psycopg.errors.UniqueViolation):
            two.execute(accept, (b,))


def test_start_needs_a_proposal(conn):
    berlin_shops(conn)
    _, order_id = open_order(conn)
    with pytest.raises(OrdersError):
        start(conn=conn, order_id=order_id, now=T0, policy=policy(), actor="owner")


def test_an_overdue_job_without_a_slot_in_time_gets_the_earliest_one_after(conn):
    berlin_shops(conn)
    conn.execute("DELETE FROM shop_slots WHERE starts_at < %s", (T0 + timedelta(days=3),))
    _, order_id = open_order(conn)
    conn.execute("UPDATE service_orders SET due_by = %s", (T0 - timedelta(days=1),))
    p = policy(mode="auto")
    ranked = propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    assert ranked and ranked[0]["name"] == "A"
    window = conn.execute("SELECT match -> 'request' ->> 'before' FROM service_orders").fetchone()
    assert window == ((T0 + p.fallback_window).isoformat(),)
    assert schedule(conn=conn, order_id=order_id, now=T0, actor="shop") == T0 + timedelta(days=3)
    # Without the fallback there would be nobody: the order is declined, with the reason.
    _, other = open_order(conn, vin="WLDSP000000000002")
    conn.execute("DELETE FROM shop_slots WHERE order_id IS NULL")
    assert propose(conn=conn, order_id=other, now=T0, policy=p) == []
    assert _status(conn, other)[0] == "declined"


def test_auto_booking_owners_get_the_earliest_slot_in_one_step(conn):
    shops = berlin_shops(conn)
    _, booked = open_order(conn)
    done = propose_new_orders(
        conn=conn, now=T0 + MIN, policy=policy(mode="auto"), consent="auto_book"
    )
    assert done == {"matched": [booked], "unmatched": []}
    assert _status(conn, booked) == ("scheduled", shops["A"])
    slot = conn.execute(
        "SELECT sl.starts_at FROM service_orders o JOIN shop_slots sl USING (slot_id) "
        "WHERE o.order_id = %s",
        (booked,),
    ).fetchone()
    assert slot == (T0 + timedelta(hours=2),)  # 08:00 has begun: the 10:00 slot
    assert history(conn, booked)[-1][3:5] == ("scheduled", "system:auto-book")
    # Proposing again finds nothing new to match.
    assert propose_new_orders(
        conn=conn, now=T0 + MIN, policy=policy(mode="auto"), consent="auto_book"
    ) == {"matched": [], "unmatched": []}
