# SPDX-License-Identifier: MIT
"""The shop's calendar over HTTP: the week by bay with its bookings (linked to their job
cards), free slots and opening hours (closed time shaded), the weeks before and after; moving
a booking by picking a free slot goes through ``placement.reschedule`` and its outbox event
tells the owner by mail; a taken slot is refused in plain words; another shop's booking is the
API's 404 and every other role a plain 403."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from factories import fleet, user
from notify_helpers import dispatch, notify_config, settle_outbox
from shop_helpers import shop_of, shop_staff, slot_of, week_of
from test_web_sessions import csrf_of, sign_in
from web_helpers import PASSWORD
from web_order_helpers import booked_order, open_shops, status_of

from orders.slots import fit_slots

VIN = "WLCAL00000000000"


def booked(conn, owner, n: int):
    """An order booked at the best shop's earliest slot, and a member of that shop's staff."""
    open_shops(conn)
    order_id = booked_order(conn, owner, vin=f"{VIN}{n}")
    staff = shop_staff(conn, shop_of(conn, order_id))
    return order_id, staff


def free_slot_ids(text: str) -> list[int]:
    return [int(s) for s in re.findall(r'class="slot free" data-slot="(\d+)"', text)]


def test_the_week_shows_bays_bookings_free_slots_and_hours(client, owner, conn):
    order_id, staff = booked(conn, owner, 1)
    shop_id = shop_of(conn, order_id)
    # Lunch from 12:00 to 13:00 and Sundays closed: the free slots follow the hours.
    conn.execute(
        "UPDATE shops SET hours = %s, bays = 2 WHERE shop_id = %s",
        (
            '{"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "tue": [["08:00", "18:00"]],'
            ' "wed": [["08:00", "18:00"]], "thu": [["08:00", "18:00"]],'
            ' "fri": [["08:00", "18:00"]], "sat": [["08:00", "18:00"]], "sun": []}',
            shop_id,
        ),
    )
    now = datetime.now(UTC)
    fit_slots(conn=conn, shop_id=shop_id, start=now, days=14)
    assert status_of(conn, order_id) == "scheduled"  # its booked slot stays
    # The slots follow the new hours, none overlapping another of its bay (the booked one
    # from the old hours included).
    overlapping = conn.execute(
        "SELECT count(*) FROM shop_slots a JOIN shop_slots b ON a.shop_id = b.shop_id "
        "AND a.bay = b.bay AND a.slot_id < b.slot_id AND a.starts_at < b.ends_at "
        "AND b.starts_at < a.ends_at WHERE a.shop_id = %s",
        (shop_id,),
    ).fetchone()[0]
    assert overlapping == 0
    _, starts = slot_of(conn, order_id)
    sign_in(client, staff.email)
    week = week_of(starts)
    page = client.get(f"/app/shop/calendar?week={week}")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Calendar</h1>" in text and "Europe/Berlin" in text
    assert 'href="/app/shop/calendar" aria-current="page">Calendar</a>' in text
    # Bays are the rows, days the columns, each day with its hours.
    assert text.count('<th scope="row" class="bay-head">') == 2
    assert "Bay 1" in text and "Bay 2" in text
    assert text.count('<th scope="col"') == 8  # the bay column and seven days
    assert '>08:00–12:00,</span><span class="span">13:00–18:00<' in text  # Monday's two spans
    assert re.search(r'<th scope="col" class="closed[^"]*"', text)  # Sunday
    assert '<li class="slot closed"><span class="time">12:00–13:00</span>' in text
    # The booking, linked to its job card, with its Move link; free slots around it.
    assert f'id="order-{order_id}"' in text and f"{VIN}1" in text
    assert f'href="/app/shop/jobs/{order_id}"' in text
    assert f'href="/app/shop/calendar/orders/{order_id}/move"' in text
    assert len(free_slot_ids(text)) >= 3
    # No free slot at lunch time or on Sunday, none of a third bay.
    rows = conn.execute(
        "SELECT count(*) FROM shop_slots WHERE shop_id = %s AND order_id IS NULL "
        "AND starts_at > now() AND (bay > 2 OR extract(isodow FROM starts_at AT TIME ZONE "
        "'Europe/Berlin') = 7 OR (extract(isodow FROM starts_at AT TIME ZONE 'Europe/Berlin') = 1 "
        "AND (starts_at AT TIME ZONE 'Europe/Berlin')::time < '13:00' "
        "AND (ends_at AT TIME ZONE 'Europe/Berlin')::time > '12:00'))",
        (shop_id,),
    ).fetchone()[0]
    assert rows == 0
    # The weeks before and after.
    monday = datetime.fromisoformat(week).date()
    after = (monday + timedelta(days=7)).isoformat()
    before = (monday - timedelta(days=7)).isoformat()
    assert f'href="/app/shop/calendar?week={after}" rel="next"' in text
    assert f'href="/app/shop/calendar?week={before}" rel="prev"' in text
    later = client.get(f"/app/shop/calendar?week={after}").text
    assert f"{VIN}1" not in later and "Bay 2" in later
    # Any day of a week opens its Monday's week; nonsense opens this week.
    assert (
        client.get(f"/app/shop/calendar?week={monday + timedelta(days=3)}").text.count(
            f'id="order-{order_id}"'
        )
        == 1
    )
    for nonsense in ("tomorrow", "0001-01-01", "9999-12-31", "2026-02-30"):
        shown = client.get(f"/app/shop/calendar?week={nonsense}")
        assert shown.status_code == 200 and 'rel="next"' in shown.text, nonsense


def test_moving_a_booking_to_a_picked_slot_tells_the_owner(client, owner, conn, smtp):
    order_id, staff = booked(conn, owner, 2)
    old_slot, starts = slot_of(conn, order_id)
    settle_outbox(conn)
    sign_in(client, staff.email)
    form = client.get(f"/app/shop/calendar/orders/{order_id}/move")
    assert form.status_code == 200 and "Pick the new time" in form.text
    picks = [int(s) for s in re.findall(r'name="slot_id" value="(\d+)"', form.text)]
    assert len(picks) >= 3 and old_slot not in picks
    target = picks[2]
    done = client.post(
        f"/app/shop/calendar/orders/{order_id}/move",
        data={"csrf_token": csrf_of(form.text), "slot_id": target},
    )
    assert done.status_code == 303
    new_slot, new_start = slot_of(conn, order_id)
    assert new_slot == target and new_start != starts and status_of(conn, order_id) == "scheduled"
    assert done.headers["location"] == (
        f"/app/shop/calendar?week={week_of(new_start)}&done=moved#order-{order_id}"
    )
    page = client.get(done.headers["location"])
    assert "Moved. The owner is told the new time." in page.text
    assert f'id="order-{order_id}"' in page.text
    # The old slot is free again; the event of the move is the owner's to hear.
    assert (
        conn.execute("SELECT order_id FROM shop_slots WHERE slot_id = %s", (old_slot,)).fetchone()[
            0
        ]
        is None
    )
    events = conn.execute(
        "SELECT event_type FROM outbox WHERE notified_at IS NULL AND payload->>'order_id' = %s",
        (str(order_id),),
    ).fetchall()
    assert [e[0] for e in events] == ["order.rescheduled"]
    dispatch(conn, notify_config(f"smtp://127.0.0.1:{smtp.port}"), datetime.now(UTC))
    message = smtp.mailbox.wait_for(owner.email)
    assert str(message["Subject"]).endswith(": your visit has moved")
    assert f"{VIN}2" in message.get_body(preferencelist=("plain",)).get_content()


def test_a_slot_no_longer_free_is_refused_in_plain_words(client, owner, conn):
    order_id, staff = booked(conn, owner, 3)
    other = booked_order(conn, owner, vin=f"{VIN}4")
    taken, _ = slot_of(conn, other)
    mine, _ = slot_of(conn, order_id)
    sign_in(client, staff.email)
    token = csrf_of(client.get("/app/shop/calendar").text)
    refused = client.post(
        f"/app/shop/calendar/orders/{order_id}/move", data={"csrf_token": token, "slot_id": taken}
    )
    assert refused.status_code == 409
    assert "that time is no longer free. Pick another time." in refused.text
    assert slot_of(conn, order_id)[0] == mine and slot_of(conn, other)[0] == taken


def test_another_shops_booking_is_not_found_and_stays(client, owner, conn):
    order_id, _ = booked(conn, owner, 5)
    mine, starts = slot_of(conn, order_id)
    rival_shop = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s ORDER BY shop_id LIMIT 1",
        (shop_of(conn, order_id),),
    ).fetchone()[0]
    rival_slot = conn.execute(
        "SELECT slot_id FROM shop_slots WHERE shop_id = %s AND order_id IS NULL "
        "AND starts_at > now() ORDER BY starts_at LIMIT 1",
        (rival_shop,),
    ).fetchone()[0]
    sign_in(client, shop_staff(conn, rival_shop, "rival").email)
    page = client.get(f"/app/shop/calendar?week={week_of(starts)}")
    assert page.status_code == 200 and f"{VIN}5" not in page.text
    assert f'id="order-{order_id}"' not in page.text
    move = client.get(f"/app/shop/calendar/orders/{order_id}/move")
    assert move.status_code == 404 and f"{VIN}5" not in move.text
    refused = client.post(
        f"/app/shop/calendar/orders/{order_id}/move",
        data={"csrf_token": csrf_of(page.text), "slot_id": rival_slot},
    )
    assert refused.status_code == 404 and slot_of(conn, order_id)[0] == mine


def test_every_other_role_is_refused(client, owner, conn):
    order_id, _ = booked(conn, owner, 6)
    mine, _ = slot_of(conn, order_id)
    free = conn.execute(
        "SELECT slot_id FROM shop_slots WHERE shop_id = %s AND order_id IS NULL "
        "AND starts_at > now() ORDER BY starts_at LIMIT 1",
        (shop_of(conn, order_id),),
    ).fetchone()[0]
    manager = user(conn, "fleet_manager", password=PASSWORD, fleet_id=fleet(conn).fleet_id)
    admin = user(conn, "admin", password=PASSWORD)
    for person in (owner, manager, admin):
        client.cookies.clear()
        sign_in(client, person.email)
        for path in ("/app/shop/calendar", f"/app/shop/calendar/orders/{order_id}/move"):
            page = client.get(path)
            assert page.status_code == 403 and "Only for shop staff" in page.text, path
        token = csrf_of(client.get("/app/settings").text)
        refused = client.post(
            f"/app/shop/calendar/orders/{order_id}/move",
            data={"csrf_token": token, "slot_id": free},
        )
        assert refused.status_code == 403 and slot_of(conn, order_id)[0] == mine
    client.cookies.clear()
    assert client.get("/app/shop/calendar").status_code == 303  # signed out: sign in first


def test_a_forged_move_changes_nothing(client, owner, conn):
    order_id, staff = booked(conn, owner, 7)
    mine, _ = slot_of(conn, order_id)
    sign_in(client, staff.email)
    forged = client.post(
        f"/app/shop/calendar/orders/{order_id}/move", data={"csrf_token": "x" * 43, "slot_id": 1}
    )
    assert forged.status_code == 403 and slot_of(conn, order_id)[0] == mine
