# SPDX-License-Identifier: MIT
"""The order pages over HTTP: the proposed service in plain words, confirming it at a picked
time or another shop, declining it, the refusals in plain words, the report and the survey
(once), and another owner's order refused as the API refuses it."""

from __future__ import annotations

import re

from test_web_sessions import csrf_of, sign_in
from web_helpers import AUTH, PASSWORD, make_owner
from web_order_helpers import (
    completed_order,
    open_shops,
    proposed_order,
    status_of,
)

from api.auth.tokens import issue_access_token
from api.auth.users import create_user


def api_order(client, user_id: int, order_id: int) -> dict:
    """The order as the JSON API gives it to the same user."""
    token = issue_access_token(AUTH, user_id)
    response = client.get(
        f"/service-orders/{order_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def slot_ids(html: str) -> list[int]:
    """The slots a page offers, in order."""
    return [int(s) for s in re.findall(r'name="slot_id" value="(\d+)"', html)]


def booked_slot(conn, order_id: int) -> int | None:
    return conn.execute(
        "SELECT slot_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()[0]


def test_the_proposed_service_in_plain_words(client, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLPGE000000000001")
    sign_in(client, owner.email)
    page = client.get(f"/app/orders/{order_id}")
    assert page.status_code == 200
    text = page.text
    api = api_order(client, owner.user_id, order_id)
    assert api["status"] == "proposed" and api["shop"]["name"] == "Becker Garage"
    assert "Proposed service: Oil change" in text
    assert "Oil life 8.0 %" in text and "About 344 km left before the oil must be changed." in text
    assert "Engine oil 5W-30, fully synthetic" in text and "4.5 l" in text
    assert api["estimate"] == {"total": 89.0, "currency": "EUR", "jobs": ["OIL-CHG"]}
    assert "€89.00" in text and "From the shop's price list" in text
    # The shop: distance from the car's home, rating, hours, and a map by link only.
    assert "0.7 km from the car's home" in text
    assert "4.6 of 5 (reviews: 40)" in text and "Mon – Sun" in text and "07:00–19:00" in text
    assert "https://www.openstreetmap.org/?mlat=48.13700&amp;mlon=11.58500" in text
    # Every asset the page loads is the app's own; the map is a link, not embedded tiles.
    loaded = re.findall(r'<(?:script|img|iframe)[^>]*src="([^"]+)"', text)
    loaded += re.findall(r'<link[^>]*href="([^"]+)"', text)
    assert loaded and all(s.startswith("/app/static/") for s in loaded), loaded
    # The ranked shops to choose from instead, each with its price in its currency.
    assert "Choose Isar Auto Service" in text and "€99.00" in text
    assert "Choose Werkstatt Nord" in text and "€79.00" in text
    # Free times of the proposed shop, one per start time.
    offered = slot_ids(text)
    starts = conn.execute(
        "SELECT count(DISTINCT starts_at) FROM shop_slots WHERE slot_id = ANY(%s)", (offered,)
    ).fetchone()[0]
    # How many depends on the hour and the day the test runs (slots left before the car is
    # due); each offered time is a distinct start.
    assert offered and starts == len(offered)


def test_confirming_books_the_picked_time(client, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLPGE000000000002")
    sign_in(client, owner.email)
    page = client.get(f"/app/orders/{order_id}")
    picked = slot_ids(page.text)[2]  # not the earliest: another slot than proposed first
    done = client.post(
        f"/app/orders/{order_id}/confirm",
        data={"csrf_token": csrf_of(page.text), "slot_id": picked},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/app/orders/{order_id}?done=confirmed"
    assert status_of(conn, order_id) == "scheduled" and booked_slot(conn, order_id) == picked
    after = client.get(done.headers["location"]).text
    assert "Confirmed. The timeline below shows what happens next." in after
    assert "Visit booked at Becker Garage." in after
    for step in ("Service proposed", "Service confirmed", "The shop accepted", "Visit booked"):
        assert step in after
    # The booked visit may move to another free time.
    other = slot_ids(after)[0]
    moved = client.post(
        f"/app/orders/{order_id}/book",
        data={"csrf_token": csrf_of(after), "slot_id": other, "moving": "true"},
    )
    assert moved.status_code == 303 and moved.headers["location"].endswith("?done=moved")
    assert booked_slot(conn, order_id) == other and status_of(conn, order_id) == "scheduled"
    assert "Visit moved" in client.get(moved.headers["location"]).text


def test_choosing_another_shop_then_a_time(client, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLPGE000000000003")
    sign_in(client, owner.email)
    page = client.get(f"/app/orders/{order_id}")
    isar = conn.execute("SELECT shop_id FROM shops WHERE name = 'Isar Auto Service'").fetchone()[0]
    chosen = client.post(
        f"/app/orders/{order_id}/confirm", data={"csrf_token": csrf_of(page.text), "shop_id": isar}
    )
    assert chosen.status_code == 303 and status_of(conn, order_id) == "accepted"
    after = client.get(chosen.headers["location"]).text
    assert "The shop accepted. Pick a time for the visit." in after
    assert "Pick a time at Isar Auto Service" in after and "€99.00" in after
    slot = slot_ids(after)[0]
    assert (
        conn.execute("SELECT shop_id FROM shop_slots WHERE slot_id = %s", (slot,)).fetchone()[0]
        == isar
    )
    booked = client.post(
        f"/app/orders/{order_id}/book", data={"csrf_token": csrf_of(after), "slot_id": slot}
    )
    assert booked.status_code == 303 and booked.headers["location"].endswith("?done=booked")
    assert status_of(conn, order_id) == "scheduled" and booked_slot(conn, order_id) == slot
    assert api_order(client, owner.user_id, order_id)["shop"]["shop_id"] == isar


def test_declining_with_a_reason(client, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLPGE000000000004")
    sign_in(client, owner.email)
    page = client.get(f"/app/orders/{order_id}")
    done = client.post(
        f"/app/orders/{order_id}/decline",
        data={"csrf_token": csrf_of(page.text), "reason": "my brother changes it"},
    )
    assert done.status_code == 303 and status_of(conn, order_id) == "cancelled"
    api = api_order(client, owner.user_id, order_id)
    assert api["events"][-1]["note"] == "my brother changes it"
    after = client.get(done.headers["location"]).text
    assert "Declined. Nothing will be booked for this job." in after
    assert "Reason: my brother changes it" in after
    assert "Confirm and book" not in after and 'name="slot_id"' not in after


def test_a_step_the_order_has_passed_is_said_in_plain_words(client, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLPGE000000000005")
    sign_in(client, owner.email)
    page = client.get(f"/app/orders/{order_id}")
    token, slot = csrf_of(page.text), slot_ids(page.text)[0]
    assert (
        client.post(
            f"/app/orders/{order_id}/confirm", data={"csrf_token": token, "slot_id": slot}
        ).status_code
        == 303
    )
    again = client.post(f"/app/orders/{order_id}/confirm", data={"csrf_token": token})
    assert again.status_code == 409
    assert "Nothing was changed: this order has moved on since the page was shown" in again.text
    assert "(it is now: Visit booked)" in again.text
    # A time another order took meanwhile: nothing of the step is kept.
    second = proposed_order(conn, owner, vin="WLPGE000000000006")
    taken = client.post(
        f"/app/orders/{second}/confirm", data={"csrf_token": token, "slot_id": slot}
    )
    assert taken.status_code == 409
    assert "that time is no longer free" in taken.text
    assert status_of(conn, second) == "proposed"


def test_a_shop_asked_first_then_the_owner_picks_a_time(client, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLPGE000000000007", mode="sequential")
    sign_in(client, owner.email)
    page = client.get(f"/app/orders/{order_id}")
    assert "The shop is asked first; you pick a time once it accepts." in page.text
    assert 'name="slot_id"' not in page.text
    done = client.post(f"/app/orders/{order_id}/confirm", data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 303 and status_of(conn, order_id) == "offered"
    assert "The shop has been asked to accept." in client.get(done.headers["location"]).text


def test_the_report_and_the_survey_once(client, owner, conn):
    order_id = completed_order(conn, owner, vin="WLPGE000000000008")
    sign_in(client, owner.email)
    page = client.get(f"/app/orders/{order_id}")
    text = page.text
    assert "Report of the visit" in text and "Oil and filter changed, pads measured" in text
    assert "7.5 mm" in text and "8.5 mm" in text and "€89.00" in text
    assert "engine oil 5W-30" in text and "48,300 km" in text
    assert "How likely are you to recommend Becker Garage to a friend?" in text
    sent = client.post(
        f"/app/orders/{order_id}/survey",
        data={"csrf_token": csrf_of(text), "score": "9", "comment": "Quick and friendly"},
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=rated")
    survey = conn.execute(
        "SELECT score, answered_at IS NOT NULL FROM service_surveys WHERE order_id = %s",
        (order_id,),
    ).fetchone()
    assert tuple(survey) == (9, True)
    assert (
        conn.execute("SELECT survey_mean FROM shops WHERE name = 'Becker Garage'").fetchone()[0]
        == 9.0
    )
    api = api_order(client, owner.user_id, order_id)
    assert api["events"][-1]["note"] == "recommendation 9/10: Quick and friendly"
    after = client.get(sent.headers["location"]).text
    assert "You rated Becker Garage 9 of 10. Thank you." in after and 'name="score"' not in after
    again = client.post(
        f"/app/orders/{order_id}/survey", data={"csrf_token": csrf_of(text), "score": "2"}
    )
    assert again.status_code == 409 and "takes one answer" in again.text
    assert (
        conn.execute(
            "SELECT score FROM service_surveys WHERE order_id = %s", (order_id,)
        ).fetchone()[0]
        == 9
    )
    assert (
        client.post(
            f"/app/orders/{order_id}/survey", data={"csrf_token": csrf_of(text), "score": "11"}
        ).status_code
        == 422
    )


def test_another_owners_order_is_a_plain_404(client, owner, conn):
    open_shops(conn)
    theirs = proposed_order(conn, make_owner(conn, "someone"), vin="WLPGE000000000009")
    sign_in(client, owner.email)
    token = csrf_of(client.get("/app/orders").text)
    refused = client.get(f"/app/orders/{theirs}")
    missing = client.get("/app/orders/999999999")
    assert refused.status_code == missing.status_code == 404
    assert f"There is no order {theirs} among your orders." in refused.text
    assert "WLPGE000000000009" not in refused.text and "Becker" not in refused.text
    for step, data in (("confirm", {}), ("decline", {"reason": "x"}), ("survey", {"score": "5"})):
        response = client.post(f"/app/orders/{theirs}/{step}", data={"csrf_token": token, **data})
        assert response.status_code == 404, step
    assert client.get(f"/app/orders/{theirs}/events").status_code == 404
    assert status_of(conn, theirs) == "proposed"
    assert client.get("/app/orders").text.count("WLPGE000000000009") == 0


def test_a_forged_confirmation_is_refused(client, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLPGE00000000000A")
    sign_in(client, owner.email)
    forged = client.post(f"/app/orders/{order_id}/confirm", data={"csrf_token": "guessed"})
    assert forged.status_code == 403 and "This form was refused" in forged.text
    assert status_of(conn, order_id) == "proposed"


def test_a_shop_reads_the_order_but_takes_no_owner_step(client, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLPGE00000000000B", mode="sequential")
    sign_in(client, owner.email)
    page = client.get(f"/app/orders/{order_id}")
    client.post(f"/app/orders/{order_id}/confirm", data={"csrf_token": csrf_of(page.text)})
    client.cookies.clear()
    shop_id = conn.execute(
        "SELECT shop_id FROM service_offers WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
    email = "sam@shop.example.test"
    create_user(conn=conn, email=email, role="shop_staff", password=PASSWORD, shop_id=shop_id)
    sign_in(client, email)
    seen = client.get(f"/app/orders/{order_id}")
    assert seen.status_code == 200 and "Decline this service" not in seen.text
    assert "answers offers and books visits in its inbox" in seen.text  # where to act instead
    refused = client.post(
        f"/app/orders/{order_id}/decline", data={"csrf_token": csrf_of(seen.text), "reason": "no"}
    )
    assert refused.status_code == 403
    assert "your account may not take this step" in refused.text
    assert status_of(conn, order_id) == "offered"


def test_the_orders_list_puts_what_waits_first(client, owner, conn):
    open_shops(conn)
    waiting = proposed_order(conn, owner, vin="WLPGE00000000000C")
    done = completed_order(conn, owner, vin="WLPGE00000000000D")
    sign_in(client, owner.email)
    page = client.get("/app/orders").text
    assert page.index("Waiting for you") < page.index(f"/app/orders/{waiting}")
    assert page.index(f"/app/orders/{waiting}") < page.index("Finished")
    assert page.index("Finished") < page.index(f"/app/orders/{done}")
    assert "Estimate: €89.00" in page


def test_my_cars_points_at_the_order_waiting_for_the_owner(client, owner, conn):
    open_shops(conn)
    waiting = proposed_order(conn, owner, vin="WLPGE00000000000E")
    done = completed_order(conn, owner, vin="WLPGE00000000000F")
    sign_in(client, owner.email)
    page = client.get("/app/cars").text
    assert page.count("A service is waiting for you") == 1
    assert f'href="/app/orders/{waiting}"' in page
    assert f'href="/app/orders/{done}"' not in page  # finished: nothing to do
