# SPDX-License-Identifier: MIT
"""Only verified shops are offered orders: a shop waiting for an admin, or one an admin
rejected, never receives an offer, however near and free it is; once verified it does."""

from datetime import UTC, datetime

from placement_helpers import T0, berlin_shops, open_order, policy

from api.shops.onboarding import reject, verify
from orders.placement import propose


def _offered(conn, order_id):
    return {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT shop_id FROM service_offers WHERE order_id = %s", (order_id,)
        )
    }


def test_unverified_and_rejected_shops_get_no_offer_and_a_verified_one_does(conn):
    shops = berlin_shops(conn)
    # The two nearest shops applied by themselves: A waits, B was turned down.
    conn.execute(
        "UPDATE shops SET verified_at = NULL, verification = 'pending' WHERE shop_id = ANY(%s)",
        ([shops["A"], shops["B"]],),
    )
    reject(conn=conn, shop_id=shops["B"], by=None, reason="no garage", now=datetime.now(UTC))
    _, order_id = open_order(conn)
    ranked = propose(
        conn=conn,
        order_id=order_id,
        now=T0,
        policy=policy(mode="broadcast", k=5),
        consent="auto_book",
    )
    assert [r["name"] for r in ranked] == ["C", "D", "E"]
    assert _offered(conn, order_id) == {shops["C"], shops["D"], shops["E"]}
    # Verified after all (the rejection goes with it), B is offered the next order.
    verify(conn=conn, shop_id=shops["B"], by=None, now=datetime.now(UTC))
    assert conn.execute(
        "SELECT rejected_at, rejection_reason FROM shops WHERE shop_id = %s", (shops["B"],)
    ).fetchone() == (None, None)
    _, second = open_order(conn, vin="WLDSP000000000002")
    propose(
        conn=conn,
        order_id=second,
        now=T0,
        policy=policy(mode="broadcast", k=5),
        consent="auto_book",
    )
    assert shops["B"] in _offered(conn, second) and shops["A"] not in _offered(conn, second)
