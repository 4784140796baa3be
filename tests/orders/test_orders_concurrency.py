# SPDX-License-Identifier: MIT
"""Two dispatchers on the same orders at once (the demo's background dispatcher and its own
order step), on real PostgreSQL: neither fails and no order is booked twice."""

import threading

import psycopg
from placement_helpers import T0, berlin_shops, open_order, policy

from orders.service import order_open_alerts, propose_new_orders


def test_two_dispatchers_at_once_book_each_order_once(db_url, conn):
    berlin_shops(conn)
    for i in range(12):
        open_order(conn, vin=f"WLDSP0000000001{i:02d}")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def dispatcher() -> None:
        try:
            with psycopg.connect(db_url, autocommit=True) as own:
                barrier.wait()
                for _ in range(3):
                    order_open_alerts(conn=own, now=T0)
                    propose_new_orders(
                        conn=own, now=T0, policy=policy(mode="auto"), consent="auto_book"
                    )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    offers = conn.execute(
        "SELECT order_id, count(*) FROM service_offers GROUP BY order_id"
    ).fetchall()
    assert len(offers) == 12 and {n for _, n in offers} == {1}
    slots = conn.execute(
        "SELECT order_id, count(*) FROM shop_slots WHERE order_id IS NOT NULL GROUP BY order_id"
    ).fetchall()
    assert len(slots) == 12 and {n for _, n in slots} == {1}
    statuses = conn.execute("SELECT DISTINCT status FROM service_orders").fetchall()
    assert statuses == [("scheduled",)]
