# SPDX-License-Identifier: MIT
"""Shop staff are told of new offers (revision 0021's ``offer.made``): by mail through a real
SMTP server, to the staff of the shop the offer went to and nobody else; a message held by
quiet hours is skipped once the offer closed; Settings lists the kind for shop staff only and
turning it off stops the mail; the live stream gives the event to that shop alone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from fastapi.testclient import TestClient
from notify_helpers import (
    BASE_URL,
    app_links,
    bodies,
    deliveries,
    dispatch,
    notify_app,
    notify_config,
)
from psycopg import sql
from shop_helpers import offered_order, pending_offer, shop_staff
from test_web_sessions import csrf_of, sign_in
from web_helpers import make_owner
from web_order_helpers import open_shops

from api import access
from api.auth.principal import Principal
from web.notify import channels
from web.notify.dispatch import OFFER_CLOSED
from web.notify.events import classify


def _offer(conn, vin: str) -> tuple[int, int, int]:
    """An owner's order offered to the best shop alone; (order, offer, shop) ids. Every event
    before the offer is marked told, so a round sends only the offer's."""
    open_shops(conn)
    owner = make_owner(conn)
    order_id = offered_order(conn, owner, vin=vin)
    conn.execute(
        "UPDATE outbox SET notified_at = now() WHERE notified_at IS NULL "
        "AND event_type <> 'offer.made'"
    )
    offer_id, shop_id = pending_offer(conn, order_id)
    return order_id, offer_id, shop_id


def _smtp(smtp) -> str:
    return f"smtp://127.0.0.1:{smtp.port}"


def test_an_offer_is_an_outbox_event_of_the_shop_it_went_to(conn):
    order_id, offer_id, shop_id = _offer(conn, "WLNTFYSHP00000001")
    rows = conn.execute(
        "SELECT shop_id, payload FROM outbox WHERE event_type = 'offer.made'"
    ).fetchall()
    assert len(rows) == 1
    event_shop, payload = rows[0]
    assert event_shop == shop_id
    assert (payload["offer_id"], payload["order_id"], payload["status"]) == (
        offer_id,
        order_id,
        "offered",
    )
    assert classify("offer.made", payload) is not None
    assert (classify("offer.made", payload).kind, classify("offer.made", payload).urgent) == (
        "offer_made",
        False,
    )


def test_the_shops_staff_get_a_mail_and_nobody_else(db_url, conn, smtp):
    order_id, _, shop_id = _offer(conn, "WLNTFYSHP00000002")
    first, second = shop_staff(conn, shop_id, "first"), shop_staff(conn, shop_id, "second")
    away = shop_staff(conn, shop_id, "away")
    conn.execute("UPDATE users SET disabled = true WHERE user_id = %s", (away.user_id,))
    other_shop = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s LIMIT 1", (shop_id,)
    ).fetchone()[0]
    rival = shop_staff(conn, other_shop, "rival")
    owner_id = conn.execute(
        "SELECT v.owner_user_id FROM service_orders o JOIN vehicles v USING (vehicle_id) "
        "WHERE o.order_id = %s",
        (order_id,),
    ).fetchone()[0]
    done = dispatch(conn, notify_config(_smtp(smtp)), datetime.now(UTC))
    assert done["events"] == 1
    message = smtp.mailbox.wait_for(first.email)
    assert message["Subject"].startswith("New offer to answer: ")
    text, html = bodies(message)
    for body in (text, html):
        assert "An order was offered to your shop: " in body
        assert "Answer by " in body and "goes to the next shop" in body
        assert "WLNTFYSHP00000002" in body
    smtp.mailbox.wait_for(second.email)
    assert deliveries(conn, first.user_id) == [("offer_made", "email", "delivered", 1)]
    for nobody in (away.user_id, rival.user_id, owner_id):
        assert deliveries(conn, nobody) == []
    assert smtp.mailbox.to(rival.email) == [] and smtp.mailbox.to(away.email) == []
    # Its link signs the staff member in and opens the inbox.
    open_url = next(u for u in app_links(text) if "/app/n/" in u)
    with TestClient(notify_app(db_url, _smtp(smtp)), follow_redirects=False) as client:
        path = open_url.removeprefix(BASE_URL)
        page = client.get(path)
        used = client.post(path, data={"csrf_token": csrf_of(page.text)})
        assert used.status_code == 303 and used.headers["location"] == "/app/shop"


def test_a_message_held_for_quiet_hours_is_skipped_once_the_offer_closed(conn, smtp):
    _, _, shop_id = _offer(conn, "WLNTFYSHP00000003")
    resting, on_duty = shop_staff(conn, shop_id, "resting"), shop_staff(conn, shop_id, "duty")
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).time(), (now + timedelta(hours=1)).time()
    channels.set_quiet_hours(
        conn, user_id=resting.user_id, time_zone="UTC", start=time(start.hour), end=time(end.hour)
    )
    config = notify_config(_smtp(smtp))
    dispatch(conn, config, now)
    smtp.mailbox.wait_for(on_duty.email)  # not resting: at once
    assert deliveries(conn, resting.user_id) == [("offer_made", "email", "pending", 0)]
    # Quiet hours end after the offer's five minutes: nothing is left to answer.
    dispatch(conn, config, now + timedelta(hours=3))
    assert deliveries(conn, resting.user_id) == [("offer_made", "email", "skipped", 1)]
    error = conn.execute(
        "SELECT a.error FROM notify_attempts a JOIN notify_deliveries d USING (delivery_id) "
        "WHERE d.user_id = %s",
        (resting.user_id,),
    ).fetchone()[0]
    assert error == OFFER_CLOSED
    assert smtp.mailbox.to(resting.email) == []


def test_settings_list_the_kind_for_shop_staff_and_turning_it_off_stops_the_mail(
    db_url, conn, smtp
):
    open_shops(conn)
    shop_id = conn.execute("SELECT shop_id FROM shops ORDER BY shop_id LIMIT 1").fetchone()[0]
    staff = shop_staff(conn, shop_id, "settings")
    owner = make_owner(conn, "settings-owner")
    label = "A new offer to your shop, to answer"
    with TestClient(notify_app(db_url, _smtp(smtp)), follow_redirects=False) as client:
        sign_in(client, owner.email)
        assert label not in client.get("/app/settings").text
        client.cookies.clear()
        sign_in(client, staff.email)
        page = client.get("/app/settings")
        assert label in page.text
        email = channels.of_user(conn, staff.user_id)[0].channel_id
        assert f'value="{email}:offer_made"' in page.text
        # Every box but the offers' ticked.
        saved = client.post(
            "/app/settings/routes",
            data={"route": [f"{email}:order_booked"], "csrf_token": csrf_of(page.text)},
        )
        assert saved.status_code == 303
    assert not channels.of_user(conn, staff.user_id)[0].carries("offer_made")
    order_id = offered_order(conn, owner, vin="WLNTFYSHP00000004")
    _, offered_to = pending_offer(conn, order_id)
    assert offered_to == shop_id  # the first shop is the best for a car at HOME
    conn.execute(
        "UPDATE outbox SET notified_at = now() WHERE notified_at IS NULL "
        "AND event_type <> 'offer.made'"
    )
    dispatch(conn, notify_config(_smtp(smtp)), datetime.now(UTC))
    assert deliveries(conn, staff.user_id) == []


def _visible(conn, principal: Principal) -> list[str]:
    where, params = access.events(principal, "e")
    query = sql.SQL("SELECT e.event_type FROM outbox e WHERE {} ORDER BY e.event_id").format(where)
    return [r[0] for r in conn.execute(query, params).fetchall()]


def test_the_live_stream_gives_the_offer_to_its_shop_alone(conn):
    order_id, _, shop_id = _offer(conn, "WLNTFYSHP00000005")
    other_shop = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s LIMIT 1", (shop_id,)
    ).fetchone()[0]
    owner_id = conn.execute(
        "SELECT v.owner_user_id FROM service_orders o JOIN vehicles v USING (vehicle_id) "
        "WHERE o.order_id = %s",
        (order_id,),
    ).fetchone()[0]
    staff = shop_staff(conn, shop_id, "live")
    assert "offer.made" in _visible(
        conn, Principal(user_id=staff.user_id, role="shop_staff", shop_id=shop_id)
    )
    rival = Principal(user_id=staff.user_id + 1000, role="shop_staff", shop_id=other_shop)
    assert "offer.made" not in _visible(conn, rival)
    owner = Principal(user_id=owner_id, role="owner")
    seen = _visible(conn, owner)
    assert "offer.made" not in seen and "order.status_changed" in seen
