# SPDX-License-Identifier: MIT
"""Apprise channels against a local HTTP receiver, the public-address guard on the URLs users
type, the Settings page's forms, and who is told about which events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import factories
import pytest
from fastapi.testclient import TestClient
from notify_helpers import (
    HttpReceiver,
    deliveries,
    dispatch,
    notify_app,
    notify_config,
    raise_alert,
    settle_outbox,
)
from test_web_sessions import csrf_of, sign_in
from web_helpers import make_car, make_owner

from api.webhooks.network import WebhookConfig
from web.notify import channels
from web.notify.channels import ChannelError

LOCAL = ("127.0.0.1",)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """A local HTTP server standing in for a notification service."""
    found = HttpReceiver()
    found.port = found.start()
    yield found
    found.stop()


def test_an_apprise_channel_gets_the_message_with_the_cars_state(conn, smtp, receiver):
    owner = make_owner(conn)
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0101")
    settle_outbox(conn)
    channels.add_apprise(
        conn,
        user_id=owner.user_id,
        url=f"json://127.0.0.1:{receiver.port}/hook",
        label="Phone",
        config=WebhookConfig(allow_private=LOCAL),
    )
    raise_alert(conn, vehicle_id, kind="brake_pads", tier="due_now", severity="critical")
    dispatch(
        conn, notify_config(f"smtp://127.0.0.1:{smtp.port}", allow_private=LOCAL), datetime.now(UTC)
    )
    assert len(receiver.received) == 1
    body = receiver.received[0]["body"]
    assert receiver.received[0]["path"] == "/hook"
    assert body["title"] == "Volkswagen Golf 2019: change the brake pads now"
    assert "Brake pads: 6.1 mm" in body["message"] and "Oil life: 14.2 %" in body["message"]
    # A chat is not a private mailbox: a plain link to the page, no one-time token.
    assert f"http://testserver/app/cars/{vehicle_id}" in body["message"]
    assert "/app/n/" not in body["message"]
    assert sorted(deliveries(conn, owner.user_id)) == [
        ("tier_crossed", "apprise", "delivered", 1),
        ("tier_crossed", "email", "delivered", 1),
    ]


def test_a_private_apprise_url_is_refused_in_plain_words(conn, client, owner):
    sign_in(client, owner.email)
    page = client.get("/app/settings")
    answer = client.post(
        "/app/settings/channels",
        data={"url": "json://127.0.0.1:9/hook", "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 400
    assert "This address is not on the public internet" in answer.text
    # The same words for loopback as for a name resolving to a private address: the form is no
    # oracle of what internal names resolve to (issue 15).
    assert "the destination is not on the public internet" in answer.text
    assert "loopback" not in answer.text
    assert [c.kind for c in channels.of_user(conn, owner.user_id)] == ["email"]
    for url in ("ntfy://localhost/alerts", "gotify://10.1.2.3/token", "json://[::1]:80/"):
        with pytest.raises(ChannelError) as refused:
            channels.add_apprise(
                conn, user_id=owner.user_id, url=url, label=None, config=WebhookConfig()
            )
        assert refused.value.code == "private", url
    with pytest.raises(ChannelError) as refused:
        channels.add_apprise(
            conn, user_id=owner.user_id, url="mailto://a:b@example.com", label=None,
            config=WebhookConfig(),
        )  # fmt: skip
    assert refused.value.code == "service"


def test_a_url_that_turns_private_is_refused_at_the_send(conn, smtp, receiver):
    owner = make_owner(conn)
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0102")
    settle_outbox(conn)
    # Accepted when the operator allowed it; no longer allowed when the message goes.
    channels.add_apprise(
        conn,
        user_id=owner.user_id,
        url=f"json://127.0.0.1:{receiver.port}/",
        label=None,
        config=WebhookConfig(allow_private=LOCAL),
    )
    raise_alert(conn, vehicle_id)
    dispatch(conn, notify_config(f"smtp://127.0.0.1:{smtp.port}"), datetime.now(UTC))
    assert receiver.received == []
    row = conn.execute(
        "SELECT d.status, a.error FROM notify_deliveries d JOIN notify_attempts a "
        "USING (delivery_id) JOIN notify_channels c USING (channel_id) WHERE c.kind = 'apprise'"
    ).fetchone()
    assert row[0] == "failed" and row[1].startswith("Refused") and "loopback" not in row[1]
    assert "the destination is not on the public internet" in row[1]


def test_settings_add_a_channel_send_a_test_choose_kinds_and_quiet_hours(
    db_url, conn, smtp, receiver
):
    owner = make_owner(conn)
    with TestClient(
        notify_app(db_url, f"smtp://127.0.0.1:{smtp.port}", allow=LOCAL), follow_redirects=False
    ) as client:
        sign_in(client, owner.email)
        page = client.get("/app/settings")
        assert page.status_code == 200
        assert 'href="/app/cars/add"' in page.text  # pairing a new dongle starts here too
        url = f"json://127.0.0.1:{receiver.port}/"
        added = client.post(
            "/app/settings/channels",
            data={"url": url, "label": "Kitchen tablet", "csrf_token": csrf_of(page.text)},
        )
        assert added.status_code == 303 and added.headers["location"] == "/app/settings?done=added"
        page = client.get(added.headers["location"])
        assert "Channel added." in page.text and "Kitchen tablet" in page.text
        found = {c.kind: c for c in channels.of_user(conn, owner.user_id)}
        token = csrf_of(page.text)

        sent = client.post(
            f"/app/settings/channels/{found['apprise'].channel_id}/test",
            data={"csrf_token": token},
        )
        assert sent.status_code == 303
        assert receiver.received[0]["body"]["title"] == "Wrenchlight test message"
        client.post(
            f"/app/settings/channels/{found['email'].channel_id}/test", data={"csrf_token": token}
        )
        assert smtp.mailbox.wait_for(owner.email)["Subject"] == "Wrenchlight test message"

        # Only booked visits by email; everything but surveys to the tablet.
        email, tablet = found["email"].channel_id, found["apprise"].channel_id
        routes = [f"{email}:order_booked"] + [
            f"{tablet}:{kind}" for kind in ("tier_crossed", "trouble_code", "order_proposed")
        ]
        saved = client.post("/app/settings/routes", data={"route": routes, "csrf_token": token})
        assert saved.status_code == 303
        now = {c.kind: c for c in channels.of_user(conn, owner.user_id)}
        assert now["email"].carries("order_booked") and not now["email"].carries("tier_crossed")
        assert now["apprise"].carries("tier_crossed") and not now["apprise"].carries(
            "survey_offered"
        )

        quiet = client.post(
            "/app/settings/quiet",
            data={
                "time_zone": "Europe/Berlin",
                "quiet_from": "22:00",
                "quiet_until": "07:00",
                "csrf_token": token,
            },
        )
        assert quiet.status_code == 303
        stored = channels.quiet_hours(conn, owner.user_id)
        assert (stored.time_zone, str(stored.start), str(stored.end)) == (
            "Europe/Berlin",
            "22:00:00",
            "07:00:00",
        )
        wrong = client.post(
            "/app/settings/quiet",
            data={"time_zone": "Mars/Olympus", "csrf_token": token},
        )
        assert wrong.status_code == 400 and "Unknown time zone" in wrong.text

        removed = client.post(f"/app/settings/channels/{tablet}/remove", data={"csrf_token": token})
        assert removed.status_code == 303
        assert [c.kind for c in channels.of_user(conn, owner.user_id)] == ["email"]

        forged = client.post("/app/settings/channels", data={"url": url})
        assert forged.status_code == 403


def test_the_settings_page_needs_sign_in(client):
    assert client.get("/app/settings").status_code == 303


def test_order_events_reach_the_owner_and_the_fleets_managers(conn, smtp):
    fleet = factories.fleet(conn)
    manager = factories.user(conn, "fleet_manager", fleet_id=fleet.fleet_id)
    owner = make_owner(conn)
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0103")
    conn.execute(
        "UPDATE vehicles SET fleet_id = %s WHERE vehicle_id = %s", (fleet.fleet_id, vehicle_id)
    )
    stranger = make_owner(conn)
    settle_outbox(conn)
    shop = factories.shop(conn)
    order = factories.order(conn, vehicle_id, shop_id=shop.shop_id)  # proposed
    conn.execute(
        "UPDATE service_orders SET status = 'offered' WHERE order_id = %s", (order.order_id,)
    )
    # The visit is in Berlin: the owner's mail says when on the shop's clock, as the order page.
    conn.execute("UPDATE shops SET timezone = 'Europe/Berlin' WHERE shop_id = %s", (shop.shop_id,))
    visit = (datetime.now(UTC) + timedelta(days=2)).replace(hour=6, minute=30)
    conn.execute(
        "UPDATE service_orders SET status = 'scheduled', appointment_starts_at = %s "
        "WHERE order_id = %s",
        (visit, order.order_id),
    )
    conn.execute(
        "UPDATE service_orders SET status = 'completed' WHERE order_id = %s", (order.order_id,)
    )
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO service_surveys (order_id, shop_id, offer_at) VALUES (%s, %s, %s)",
        (order.order_id, shop.shop_id, now - timedelta(minutes=1)),
    )
    config = notify_config(f"smtp://127.0.0.1:{smtp.port}")
    done = dispatch(conn, config, now)
    assert done["surveys"] == 1
    expected = ["order_proposed", "order_booked", "order_completed", "survey_offered"]
    for person in (owner.user_id, manager.user_id):
        assert [d[0] for d in deliveries(conn, person)] == expected
        assert {d[2] for d in deliveries(conn, person)} == {"delivered"}
    assert deliveries(conn, stranger.user_id) == []
    # A survey is announced once.
    assert dispatch(conn, config, now + timedelta(minutes=1))["surveys"] == 0
    booked = [m for m in smtp.mailbox.to(owner.email) if "booked" in str(m["Subject"])]
    text = booked[0].get_body(preferencelist=("plain",)).get_content()
    berlin = visit.astimezone(ZoneInfo("Europe/Berlin"))
    assert shop.name in text and "(Europe/Berlin)" in text
    assert f"{berlin.hour}:{berlin.minute:02d}" in text  # 7:30 or 8:30, not 6:30 UTC
