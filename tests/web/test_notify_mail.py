# SPDX-License-Identifier: MIT
"""Notifications by mail through a real SMTP server: what they say (text and HTML, the car's
state, the reader's language and units), the one-tap link that works once and expires, the
one-click unsubscribe, quiet hours, one send per event and channel."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from fastapi.testclient import TestClient
from notify_helpers import (
    BASE_URL,
    app_links,
    bodies,
    deliveries,
    dispatch,
    notify_config,
    raise_alert,
    settle_outbox,
)
from test_web_sessions import csrf_of
from web_helpers import make_car, make_owner

from web.notify import channels


def test_a_tier_crossed_mails_the_owner_the_cars_state_in_text_and_html(conn, smtp, owner):
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0001")
    settle_outbox(conn)
    raise_alert(conn, vehicle_id)
    now = datetime.now(UTC)
    done = dispatch(conn, notify_config(f"smtp://127.0.0.1:{smtp.port}"), now)
    assert done["events"] == 1
    message = smtp.mailbox.wait_for(owner.email)
    assert message["Subject"] == "Volkswagen Golf 2019: oil change due soon"
    assert message["Message-ID"].startswith("<notify-") and message["Message-ID"].endswith("@test>")
    text, html = bodies(message)
    for body in (text, html):
        assert "14.2 %" in body and "Due soon" in body  # oil life and its tier
        assert "6.1 mm" in body  # the thinner pad
        assert "611 km" in body  # what is left, in the owner's units
        assert "WVWZZZ1JZNTFY0001" in body
    assert "<strong>Due soon</strong>" in html
    # Exactly one delivery for the one event and the one channel, delivered.
    assert deliveries(conn, owner.user_id) == [("tier_crossed", "email", "delivered", 1)]
    # Another round sends nothing again.
    dispatch(conn, notify_config(f"smtp://127.0.0.1:{smtp.port}"), now + timedelta(minutes=5))
    assert len(smtp.mailbox.to(owner.email)) == 1


def test_the_mail_speaks_the_owners_language_and_units(conn, smtp):
    owner = make_owner(conn)
    conn.execute(
        "UPDATE users SET language = 'zh_Hans', units = 'imperial' WHERE user_id = %s",
        (owner.user_id,),
    )
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0002")
    settle_outbox(conn)
    raise_alert(conn, vehicle_id, tier="due_now", severity="critical")
    dispatch(conn, notify_config(f"smtp://127.0.0.1:{smtp.port}"), datetime.now(UTC))
    message = smtp.mailbox.wait_for(owner.email)
    text, html = bodies(message)
    assert "机油" in str(message["Subject"])
    assert "380 mi" in text and "380 mi" in html  # 611 km
    assert " km" not in text


def test_the_one_tap_link_signs_in_once_and_opens_the_car(conn, smtp, owner, client):
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0003")
    settle_outbox(conn)
    raise_alert(conn, vehicle_id)
    dispatch(conn, notify_config(f"smtp://127.0.0.1:{smtp.port}"), datetime.now(UTC))
    text, _ = bodies(smtp.mailbox.wait_for(owner.email))
    open_url = next(u for u in app_links(text) if "/app/n/" in u)
    path = open_url.removeprefix(BASE_URL)
    page = client.get(path)  # a mail scanner's fetch spends nothing
    page = client.get(path)
    assert page.status_code == 200
    used = client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert used.status_code == 303 and used.headers["location"] == f"/app/cars/{vehicle_id}"
    assert client.get(f"/app/cars/{vehicle_id}").status_code == 200  # signed in

    stranger = TestClient(client.app, follow_redirects=False)
    page = stranger.get(path)
    again = stranger.post(path, data={"csrf_token": csrf_of(page.text)})
    assert again.status_code == 410 and "no longer works" in again.text


def test_the_one_tap_link_expires(conn, smtp, owner, client):
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0004")
    settle_outbox(conn)
    raise_alert(conn, vehicle_id)
    # Sent four days ago by the dispatcher's clock: its three days are over.
    dispatch(
        conn, notify_config(f"smtp://127.0.0.1:{smtp.port}"), datetime.now(UTC) - timedelta(days=4)
    )
    text, _ = bodies(smtp.mailbox.wait_for(owner.email))
    path = next(u for u in app_links(text) if "/app/n/" in u).removeprefix(BASE_URL)
    page = client.get(path)
    used = client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert used.status_code == 410
    assert client.get(f"/app/cars/{vehicle_id}").status_code == 303  # not signed in


def test_one_click_unsubscribe_turns_off_that_kind_for_mail(conn, smtp, owner, client):
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0005")
    settle_outbox(conn)
    raise_alert(conn, vehicle_id)
    config = notify_config(f"smtp://127.0.0.1:{smtp.port}")
    now = datetime.now(UTC)
    dispatch(conn, config, now)
    message = smtp.mailbox.wait_for(owner.email)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header_url = str(message["List-Unsubscribe"]).strip("<>")
    text, html = bodies(message)
    assert header_url in text and header_url in html
    # What a mail provider does for the reader's one click (RFC 8058): a POST with this body,
    # no cookie, no form token.
    answer = TestClient(client.app, follow_redirects=False).post(
        header_url.removeprefix(BASE_URL), data={"List-Unsubscribe": "One-Click"}
    )
    assert answer.status_code == 200
    email = next(c for c in channels.of_user(conn, owner.user_id) if c.kind == "email")
    assert email.muted == {"tier_crossed"}
    # The next oil alert mails nothing; a trouble code still does.
    raise_alert(conn, vehicle_id, kind="brake_pads", tier="change_soon")
    raise_alert(conn, vehicle_id, kind="trouble_code", tier="medium", message="P0420")
    dispatch(conn, config, now + timedelta(minutes=1))
    kinds = [d[0] for d in deliveries(conn, owner.user_id)]
    assert kinds == ["tier_crossed", "trouble_code"]
    # Opening the link in a browser shows a button and changes nothing by itself.
    assert client.get(header_url.removeprefix(BASE_URL)).status_code == 200


def test_quiet_hours_hold_what_can_wait_and_not_what_cannot(conn, smtp, owner):
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0006")
    settle_outbox(conn)
    # Quiet from 22:00 to 07:00 in Shanghai (UTC+8, no daylight saving); 23:30 there now.
    channels.set_quiet_hours(
        conn, user_id=owner.user_id, time_zone="Asia/Shanghai", start=time(22), end=time(7)
    )
    today = datetime.now(UTC).date()
    night = datetime(today.year, today.month, today.day, 15, 30, tzinfo=UTC)
    morning = datetime(today.year, today.month, today.day, 23, 0, tzinfo=UTC)  # 07:00 there
    config = notify_config(f"smtp://127.0.0.1:{smtp.port}")
    raise_alert(conn, vehicle_id)  # change soon: can wait
    raise_alert(conn, vehicle_id, kind="brake_pads", tier="overdue", severity="critical")
    dispatch(conn, config, night)
    urgent = smtp.mailbox.wait_for(owner.email)
    assert "change the brake pads now" in str(urgent["Subject"])
    held = conn.execute(
        "SELECT held_until, status FROM notify_deliveries WHERE event_kind = 'tier_crossed' "
        "AND NOT urgent"
    ).fetchone()
    assert held == (morning, "pending")
    dispatch(conn, config, morning - timedelta(minutes=1))
    assert len(smtp.mailbox.to(owner.email)) == 1
    dispatch(conn, config, morning)
    smtp.mailbox.wait_for_count(owner.email, 2)
    assert "oil change due soon" in str(smtp.mailbox.to(owner.email)[1]["Subject"])


def test_a_mail_server_that_is_down_is_retried_with_backoff(conn, smtp, owner):
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0007")
    settle_outbox(conn)
    raise_alert(conn, vehicle_id)
    now = datetime.now(UTC)
    dispatch(conn, notify_config("smtp://127.0.0.1:1"), now)  # nothing listens on port 1
    row = conn.execute("SELECT status, attempts, next_attempt_at FROM notify_deliveries").fetchone()
    assert row == ("pending", 1, now + timedelta(seconds=5))
    error = conn.execute("SELECT error FROM notify_attempts").fetchone()[0]
    assert "127.0.0.1:1" in error
    dispatch(conn, notify_config(f"smtp://127.0.0.1:{smtp.port}"), now + timedelta(seconds=5))
    smtp.mailbox.wait_for(owner.email)
    assert deliveries(conn, owner.user_id) == [("tier_crossed", "email", "delivered", 2)]
