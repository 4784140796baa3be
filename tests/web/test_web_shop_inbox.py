# SPDX-License-Identifier: MIT
"""The shop's inbox over HTTP: the offer with its time to answer and its pre-diagnosis;
accepting, declining with a reason and proposing another time change the order as the API's
routes do; another shop's offer is the API's 404, an owner gets a plain 403, a forged form
changes nothing, an overdue offer says so in words and refuses an answer in plain words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from shop_helpers import offered_order, pending_offer, shop_staff
from test_web_sessions import csrf_of, sign_in
from web_helpers import AUTH
from web_order_helpers import accept_offer, open_shops, status_of

from api.auth.tokens import issue_access_token


def api_order(client, user_id: int, order_id: int) -> dict:
    """The order as the JSON API gives it to the same user."""
    token = issue_access_token(AUTH, user_id)
    response = client.get(
        f"/service-orders/{order_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def offer_of(conn, offer_id: int) -> tuple[str | None, str | None]:
    return conn.execute(
        "SELECT response, responded_at::text FROM service_offers WHERE offer_id = %s", (offer_id,)
    ).fetchone()


def test_the_inbox_lists_the_offer_with_its_time_and_pre_diagnosis(client, owner, conn):
    open_shops(conn)
    order_id = offered_order(conn, owner, vin="WLSHP000000000001")
    offer_id, shop_id = pending_offer(conn, order_id)
    staff = shop_staff(conn, shop_id)
    sign_in(client, staff.email)
    page = client.get("/app/shop")
    assert page.status_code == 200
    text = page.text
    api = api_order(client, staff.user_id, order_id)
    assert api["status"] == "offered" and api["estimate"]["total"] == 89.0
    assert "Offers to answer (1)" in text and f'id="order-{order_id}"' in text
    assert "Answer within 5 min" in text and "Overdue" not in text
    # The pre-diagnosis: evidence, VIN, mileage; the job, its parts, the shop's own price.
    assert "WLSHP000000000001" in text and "Oil life" in text and "8.0 %" in text
    assert "Oil change" in text and "Engine oil 5W-30, fully synthetic" in text
    assert "€89.00" in text and "From your price list" in text
    # The answers, each a form with the session's token.
    assert f"/app/shop/orders/{order_id}/offers/{offer_id}/accept" in text
    assert f"/app/shop/orders/{order_id}/offers/{offer_id}/decline" in text
    assert 'href="/app/shop" aria-current="page">Inbox</a>' in text
    # The live block alone, for the script; the stream exists for staff.
    fragment = client.get("/app/shop", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Answer within 5 min" in fragment.text


def test_accepting_then_booking_and_moving_the_visit(client, owner, conn):
    open_shops(conn)
    order_id = offered_order(conn, owner, vin="WLSHP000000000002")
    offer_id, shop_id = pending_offer(conn, order_id)
    staff = shop_staff(conn, shop_id)
    sign_in(client, staff.email)
    token = csrf_of(client.get("/app/shop").text)
    done = client.post(
        f"/app/shop/orders/{order_id}/offers/{offer_id}/accept", data={"csrf_token": token}
    )
    assert done.status_code == 303 and "done=accepted" in done.headers["location"]
    assert status_of(conn, order_id) == "accepted" and offer_of(conn, offer_id)[0] == "accepted"
    assert api_order(client, staff.user_id, order_id)["shop"]["shop_id"] == shop_id
    page = client.get(done.headers["location"])
    assert "Accepted. The order is yours" in page.text and "Bookings (1)" in page.text
    slots = [int(s) for s in re.findall(r'<option value="(\d+)"', page.text)]
    assert len(slots) >= 2
    booked = client.post(
        f"/app/shop/orders/{order_id}/slot", data={"csrf_token": token, "slot_id": slots[1]}
    )
    assert booked.status_code == 303 and "done=booked" in booked.headers["location"]
    assert status_of(conn, order_id) == "scheduled"
    page = client.get("/app/shop").text
    assert "Booked for" in page and "Propose another time" in page
    other = next(int(s) for s in re.findall(r'<option value="(\d+)"', page))
    moved = client.post(
        f"/app/shop/orders/{order_id}/slot", data={"csrf_token": token, "slot_id": other}
    )
    assert moved.status_code == 303 and "done=moved" in moved.headers["location"]
    slot = conn.execute(
        "SELECT slot_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
    assert slot == other
    # A time that is not a free slot of the shop: plain words, nothing changed.
    taken = client.post(
        f"/app/shop/orders/{order_id}/slot", data={"csrf_token": token, "slot_id": 2**62}
    )
    assert taken.status_code == 409 and "that time is no longer free" in taken.text
    assert status_of(conn, order_id) == "scheduled"


def test_declining_with_a_reason_sends_the_offer_on(client, owner, conn):
    open_shops(conn)
    order_id = offered_order(conn, owner, vin="WLSHP000000000003")
    offer_id, shop_id = pending_offer(conn, order_id)
    staff = shop_staff(conn, shop_id)
    sign_in(client, staff.email)
    token = csrf_of(client.get("/app/shop").text)
    done = client.post(
        f"/app/shop/orders/{order_id}/offers/{offer_id}/decline",
        data={"csrf_token": token, "reason": "no bay free that week"},
    )
    assert done.status_code == 303 and "done=declined" in done.headers["location"]
    assert offer_of(conn, offer_id)[0] == "declined"
    note = conn.execute(
        "SELECT note FROM service_order_events WHERE order_id = %s AND kind = 'offer'",
        (order_id,),
    ).fetchone()[0]
    assert note == "declined: no bay free that week"
    # The cascade offered it to the next shop; this shop's inbox no longer lists it.
    assert status_of(conn, order_id) == "offered" and pending_offer(conn, order_id)[1] != shop_id
    page = client.get(done.headers["location"]).text
    assert "Declined. The offer goes to the next shop." in page and "Offers to answer (0)" in page


def test_another_shops_offer_is_not_found_and_unchanged(client, owner, conn):
    open_shops(conn)
    order_id = offered_order(conn, owner, vin="WLSHP000000000004")
    offer_id, shop_id = pending_offer(conn, order_id)
    rival = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s ORDER BY shop_id LIMIT 1", (shop_id,)
    ).fetchone()[0]
    staff = shop_staff(conn, rival, "rival")
    sign_in(client, staff.email)
    page = client.get("/app/shop").text
    assert "WLSHP000000000004" not in page
    token = csrf_of(page)
    for answer in ("accept", "decline"):
        refused = client.post(
            f"/app/shop/orders/{order_id}/offers/{offer_id}/{answer}", data={"csrf_token": token}
        )
        assert refused.status_code == 404 and "not in your shop's inbox" in refused.text
    assert (
        client.post(
            f"/app/shop/orders/{order_id}/slot", data={"csrf_token": token, "slot_id": 1}
        ).status_code
        == 404
    )
    assert offer_of(conn, offer_id) == (None, None) and status_of(conn, order_id) == "offered"


def test_an_owner_is_refused_the_inbox(client, owner, conn):
    open_shops(conn)
    order_id = offered_order(conn, owner, vin="WLSHP000000000005")
    offer_id, _ = pending_offer(conn, order_id)
    sign_in(client, owner.email)
    page = client.get("/app/shop")
    assert page.status_code == 403 and "The inbox is for the staff of a repair shop" in page.text
    assert ">Inbox</a>" not in page.text
    token = csrf_of(client.get("/app/cars").text)
    refused = client.post(
        f"/app/shop/orders/{order_id}/offers/{offer_id}/accept", data={"csrf_token": token}
    )
    assert refused.status_code == 403 and offer_of(conn, offer_id) == (None, None)
    assert client.get("/app/shop/events").status_code == 403


def test_a_forged_form_changes_nothing(client, owner, conn):
    open_shops(conn)
    order_id = offered_order(conn, owner, vin="WLSHP000000000006")
    offer_id, shop_id = pending_offer(conn, order_id)
    sign_in(client, shop_staff(conn, shop_id).email)
    forged = client.post(
        f"/app/shop/orders/{order_id}/offers/{offer_id}/accept", data={"csrf_token": "x" * 43}
    )
    assert forged.status_code == 403 and "This form was refused" in forged.text
    assert offer_of(conn, offer_id) == (None, None) and status_of(conn, order_id) == "offered"


def test_an_overdue_offer_says_so_and_refuses_an_answer(client, owner, conn):
    open_shops(conn)
    order_id = offered_order(conn, owner, vin="WLSHP000000000007")
    offer_id, shop_id = pending_offer(conn, order_id)
    conn.execute(
        "UPDATE service_offers SET expires_at = %s WHERE offer_id = %s",
        (datetime.now(UTC) - timedelta(minutes=2, seconds=10), offer_id),
    )
    sign_in(client, shop_staff(conn, shop_id).email)
    page = client.get("/app/shop").text
    assert "Overdue: the time to answer passed 3 min ago" in page
    refused = client.post(
        f"/app/shop/orders/{order_id}/offers/{offer_id}/accept",
        data={"csrf_token": csrf_of(page)},
    )
    assert refused.status_code == 409 and "this offer is closed" in refused.text
    assert offer_of(conn, offer_id) == (None, None)


def test_a_lost_offer_is_refused_in_plain_words(client, owner, conn):
    open_shops(conn)
    order_id = offered_order(conn, owner, vin="WLSHP000000000008")
    offer_id, shop_id = pending_offer(conn, order_id)
    sign_in(client, shop_staff(conn, shop_id).email)
    token = csrf_of(client.get("/app/shop").text)
    accept_offer(conn, order_id)  # another tab of the same shop answered first
    again = client.post(
        f"/app/shop/orders/{order_id}/offers/{offer_id}/accept", data={"csrf_token": token}
    )
    assert again.status_code == 409 and "Nothing was changed" in again.text


def test_shop_staff_start_at_their_inbox(client, owner, conn):
    open_shops(conn)
    order_id = offered_order(conn, owner, vin="WLSHP000000000009")
    _, shop_id = pending_offer(conn, order_id)
    staff = shop_staff(conn, shop_id)
    sign_in(client, staff.email)
    assert client.get("/app/").headers["location"] == "/app/shop"
