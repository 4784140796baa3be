# SPDX-License-Identifier: MIT
"""A fleet's decision on an order reaches the shop (revision 0025's ``order.approval_decided``):
an outbox event of the order when its manager approves or rejects it, never for the policy's
own verdicts; mailed through a real SMTP server to the staff of the shop holding the order,
or of each shop it is offered to, and to nobody else (not a rival shop, not the manager, not
staff who turned the kind off in Settings, where it is listed for shop staff alone); carried
live by the shop's inbox stream and the job card's, which then shows the decision; and
deliverable to webhook subscribers, who may subscribe to it and to ``offer.made`` (a fleet's
subscription never gets the offers, as its live stream does not)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import factories
import httpx2
import pytest
from fastapi.testclient import TestClient
from fleet_helpers import fleet_order, manager, waiting_order
from matrix_helpers import session_of
from notify_helpers import BASE_URL, app_links, bodies, deliveries, dispatch, notify_app
from notify_helpers import notify_config as config_for
from psycopg import sql
from shop_helpers import shop_of, shop_staff
from test_web_sessions import csrf_of, sign_in

from api import access, webhooks
from api.auth.principal import Principal
from api.streams import outbox_head
from api.webhooks import delivery as webhook_delivery
from api.webhooks.network import WebhookConfig
from api.webhooks.subscriptions import InvalidSubscription
from orders import approval, offers, placement
from orders.policy import PlacementPolicy
from web.notify import channels
from web.notify.events import classify

LABEL = "A fleet approves or rejects an order of your shop"
LOOPBACK = WebhookConfig(allow_private=("127.0.0.1",))
EVENT_WAIT_S = 20.0


def _now() -> datetime:
    return datetime.now(UTC)


def _decisions(conn) -> list[tuple]:
    return conn.execute(
        "SELECT shop_id, payload FROM outbox WHERE event_type = 'order.approval_decided' "
        "ORDER BY event_id"
    ).fetchall()


def test_only_a_managers_decision_is_an_outbox_event(conn):
    _, order_id = waiting_order(conn, "WLAPD000000000001")
    waiting = approval.fleet_orders(conn, fleet_id=_fleet_of(conn, order_id), since=_now())
    assert [(w.order_id, w.approval) for w in waiting] == [(order_id, "pending")]
    assert _decisions(conn) == []  # "waiting for the fleet" is the policy's, not news
    approval.decide(
        conn, order_id=order_id, approve=False, actor="user:7", note="Own garage", now=_now()
    )
    [(shop_id, payload)] = _decisions(conn)
    assert shop_id == shop_of(conn, order_id)
    assert {k: payload[k] for k in ("order_id", "approval", "note", "status", "shop_id")} == {
        "order_id": order_id,
        "approval": "rejected",
        "note": "Own garage",
        "status": "scheduled",
        "shop_id": shop_id,
    }
    assert payload["vin"] == "WLAPD000000000001" and "user:7" not in str(payload)
    found = classify("order.approval_decided", payload)
    assert found is not None and (found.kind, found.urgent) == ("approval_decided", False)


def _fleet_of(conn, order_id: int) -> int:
    return conn.execute(
        "SELECT v.fleet_id FROM service_orders o JOIN vehicles v USING (vehicle_id) "
        "WHERE o.order_id = %s",
        (order_id,),
    ).fetchone()[0]


def _smtp(smtp) -> str:
    return f"smtp://127.0.0.1:{smtp.port}"


def test_the_shops_staff_are_mailed_the_managers_decision_and_nobody_else(db_url, conn, smtp):
    fleet_id, order_id = waiting_order(conn, "WLAPD000000000002")
    shop_id = shop_of(conn, order_id)
    told, muted = shop_staff(conn, shop_id, "told"), shop_staff(conn, shop_id, "muted")
    rival_shop = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s LIMIT 1", (shop_id,)
    ).fetchone()[0]
    rival = shop_staff(conn, rival_shop, "rival")
    boss = manager(conn, fleet_id)
    with TestClient(notify_app(db_url, _smtp(smtp)), follow_redirects=False) as client:
        # Settings list the kind for shop staff (and not for the manager); one turns it off.
        theirs = session_of(conn, muted.user_id)
        page = client.get("/app/settings", headers={"Cookie": theirs.cookie()})
        assert LABEL in page.text
        email = channels.of_user(conn, muted.user_id)[0].channel_id
        assert f'value="{email}:approval_decided"' in page.text
        others = [f"{email}:{k}" for k in ("offer_made", "order_booked")]
        saved = client.post(
            "/app/settings/routes",
            data={"route": others, "csrf_token": theirs.csrf},
            headers={"Cookie": theirs.cookie()},
        )
        assert saved.status_code == 303
        assert not channels.of_user(conn, muted.user_id)[0].carries("approval_decided")
        sign_in(client, boss.email)
        approvals = client.get("/app/fleet/approvals")
        assert LABEL not in client.get("/app/settings").text
        rejected = client.post(
            f"/app/fleet/approvals/{order_id}/reject",
            data={"csrf_token": csrf_of(approvals.text), "note": "Our own garage does it"},
        )
        assert rejected.status_code == 303, rejected.text
        client.cookies.clear()
        done = dispatch(conn, config_for(_smtp(smtp)), _now())
        assert done["events"] == 1
        message = smtp.mailbox.wait_for(told.email)
        assert message["Subject"] == "Ford Transit: the fleet rejected the order"
        text, html = bodies(message)
        for body in (text, html):
            assert "The fleet rejected the order: Oil life 8 %" in body
            assert "Do not check the car in or start the work." in body
            assert "The fleet's note: Our own garage does it" in body
            assert "WLAPD000000000002" in body and "Open the job card" in body
        assert deliveries(conn, told.user_id) == [("approval_decided", "email", "delivered", 1)]
        for nobody in (muted, rival, boss):
            assert deliveries(conn, nobody.user_id) == []
            assert smtp.mailbox.to(nobody.email) == []
        # Its link signs the staff member in at the job card, which shows the decision.
        open_url = next(u for u in app_links(text) if "/app/n/" in u)
        path = open_url.removeprefix(BASE_URL)
        used = client.post(path, data={"csrf_token": csrf_of(client.get(path).text)})
        assert used.status_code == 303
        assert used.headers["location"] == f"/app/shop/jobs/{order_id}"
        card = client.get(used.headers["location"])
        assert "Rejected by the fleet." in card.text
        assert "The fleet's note: Our own garage does it" in card.text


def test_a_decision_on_an_offered_order_goes_to_the_shops_still_asked(conn, smtp):
    _, order_id = waiting_order(conn, "WLAPD000000000003", mode="broadcast")
    asked = conn.execute(
        "SELECT offer_id, shop_id FROM service_offers WHERE order_id = %s AND response IS NULL "
        "ORDER BY rank",
        (order_id,),
    ).fetchall()
    assert len(asked) >= 2, asked
    (first_offer, first_shop), (_, second_shop) = asked[0], asked[1]
    first, second = shop_staff(conn, first_shop, "first"), shop_staff(conn, second_shop, "second")
    # The first shop declines: the order is no longer its business.
    offers.respond(
        conn=conn, offer_id=first_offer, accept=False, now=_now(), policy=PlacementPolicy()
    )
    conn.execute("UPDATE outbox SET notified_at = now() WHERE notified_at IS NULL")
    approval.decide(conn, order_id=order_id, approve=True, actor="user:7", note="", now=_now())
    [(event_shop, payload)] = _decisions(conn)
    assert event_shop is None and payload["approval"] == "approved"  # held by no shop yet
    dispatch(conn, config_for(_smtp(smtp)), _now())
    message = smtp.mailbox.wait_for(second.email)
    assert message["Subject"] == "Ford Transit: the fleet approved the order"
    text, _ = bodies(message)
    assert "You may check the car in and do the work." in text
    assert "Open the inbox" in text and "The fleet's note" not in text
    assert deliveries(conn, first.user_id) == [] and smtp.mailbox.to(first.email) == []


def _visible(conn, principal: Principal) -> list[str]:
    where, params = access.events(principal, "e")
    query = sql.SQL("SELECT e.event_type FROM outbox e WHERE {} ORDER BY e.event_id").format(where)
    return [r[0] for r in conn.execute(query, params).fetchall()]


def _first_event(url: str, cookie: str) -> tuple[str, str]:
    """The first event of a page's live stream: its name and data (failing after
    ``EVENT_WAIT_S``, checked at each line: pings come every 15 s)."""
    timeout = httpx2.Timeout(10, read=30)
    deadline = time.monotonic() + EVENT_WAIT_S
    with httpx2.stream("GET", url, headers={"Cookie": cookie}, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            assert time.monotonic() < deadline, f"{url}: no event within {EVENT_WAIT_S} s"
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and name is not None:
                return name, line.split(":", 1)[1].strip()
    raise AssertionError(f"{url}: the stream ended without an event")


def test_the_inbox_and_the_job_card_refresh_live_on_the_decision(server, conn):
    fleet_id, order_id = waiting_order(conn, "WLAPD000000000004")
    shop_id = shop_of(conn, order_id)
    staff = session_of(conn, shop_staff(conn, shop_id, "live").user_id)
    cookie = staff.cookie()
    card = httpx2.get(f"{server}/app/shop/jobs/{order_id}", headers={"Cookie": cookie})
    assert card.status_code == 200
    assert "Waiting for the fleet's approval" in card.text and ">Check in<" not in card.text
    head = outbox_head(conn)
    assert f'data-events="/app/orders/{order_id}/events?after={head}"' in card.text
    assert f'data-fragment="/app/shop/jobs/{order_id}"' in card.text
    approval.decide(conn, order_id=order_id, approve=True, actor="user:7", note="", now=_now())
    # Both streams, from the page's moment, bring the decision as the next event.
    for stream in (f"/app/shop/events?after={head}", f"/app/orders/{order_id}/events?after={head}"):
        assert _first_event(f"{server}{stream}", cookie) == ("status", "scheduled"), stream
    # The job card's live block, as its script fetches it, now offers the check-in.
    fragment = httpx2.get(
        f"{server}/app/shop/jobs/{order_id}", headers={"Cookie": cookie, "HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Approved by the fleet." in fragment.text and ">Check in<" in fragment.text
    inbox = httpx2.get(f"{server}/app/shop", headers={"Cookie": cookie, "HX-Request": "true"})
    assert "Approved by the fleet." in inbox.text
    # Nobody else's stream carries it: not a rival shop, not another fleet's manager.
    rival_shop = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s LIMIT 1", (shop_id,)
    ).fetchone()[0]
    rival = Principal(user_id=10**9, role="shop_staff", shop_id=rival_shop)
    stranger = Principal(user_id=10**9 + 1, role="fleet_manager", fleet_id=fleet_id + 1000)
    ours = Principal(user_id=10**9 + 2, role="shop_staff", shop_id=shop_id)
    assert "order.approval_decided" in _visible(conn, ours)
    for nobody in (rival, stranger):
        assert "order.approval_decided" not in _visible(conn, nobody)


def test_webhooks_subscribe_to_decisions_and_offers_and_a_fleet_gets_no_offers(conn):
    created = webhooks.create(
        conn,
        url="http://127.0.0.1:9/hook",
        event_types=["order.approval_decided", "offer.made"],
        config=LOOPBACK,
    )
    assert sorted(created.subscription["event_types"]) == ["offer.made", "order.approval_decided"]
    with pytest.raises(InvalidSubscription):
        webhooks.create(
            conn, url="http://127.0.0.1:9/h", event_types=["offer.taken"], config=LOOPBACK
        )
    fleet_id, held = waiting_order(conn, "WLAPD000000000005")
    shop_id = shop_of(conn, held)
    wanted = ["order.approval_decided", "offer.made"]
    fleet_hook = factories.subscription(conn, event_types=wanted, fleet_id=fleet_id)
    shop_hook = factories.subscription(conn, event_types=wanted, shop_id=shop_id)
    approval.decide(conn, order_id=held, approve=True, actor="user:7", note="", now=_now())
    offered = fleet_order(conn, fleet_id, vin="WLAPD000000000006", mode="broadcast")
    placement.owner_confirm(conn=conn, order_id=offered, now=_now(), policy=PlacementPolicy())
    assert webhook_delivery.fan_out(conn, now=_now()) > 0
    got = {
        hook.subscription_id: conn.execute(
            "SELECT o.event_type, o.payload->>'order_id' FROM webhook_deliveries d "
            "JOIN outbox o USING (event_id) WHERE d.subscription_id = %s ORDER BY o.event_id",
            (hook.subscription_id,),
        ).fetchall()
        for hook in (fleet_hook, shop_hook)
    }
    assert got[fleet_hook.subscription_id] == [("order.approval_decided", str(held))]
    assert got[shop_hook.subscription_id] == [
        ("order.approval_decided", str(held)),
        ("offer.made", str(offered)),
    ]
