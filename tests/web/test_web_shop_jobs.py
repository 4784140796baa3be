# SPDX-License-Identifier: MIT
"""The shop's job card over HTTP: checking in, starting and completing a booked visit with
the report (two parts with their part and batch numbers, labour, the technician) stores what
was typed and the owner's order page shows it; an odometer below the car's last known is
refused in plain words with the form kept; another shop's job is the API's 404, an owner gets
a plain 403, a forged form changes nothing."""

from __future__ import annotations

import re
from html import unescape

from shop_helpers import shop_staff
from test_web_sessions import csrf_of, sign_in
from web_order_helpers import booked_order, open_shops, status_of

from web.jobs import read_form


def shop_of(conn, order_id: int) -> int:
    return conn.execute(
        "SELECT shop_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()[0]


def report_form(token: str, **changes: object) -> dict[str, object]:
    """The completion form as staff fill it in: two parts and two blank rows."""
    form: dict[str, object] = {
        "csrf_token": token,
        "pad_front_mm": "7.5",
        "pad_rear_mm": "8,5",  # a decimal comma is read as a point
        "oil_changed": "yes",
        "odometer": "48250",
        "part": ["Engine oil 5W-30", "Oil filter", "", ""],
        "part_number": ["OIL-5W30-5L", "OX 388D", "", ""],
        "batch": ["L2311-07", "B-4471", "", ""],
        "quantity": ["4.5", "1", "", ""],
        "unit": ["l", "pc", "", ""],
        "labour_h": "0.8",
        "cost": "94.50",
        "currency": "eur",
        "technician": "Jana Weber",
        "work_done": "Oil and filter changed, pads measured on both axles",
    }
    return form | changes


def in_service(client, conn, owner, vin: str) -> tuple[int, str]:
    """A booked order whose shop's staff signed in, checked the car in and started work."""
    open_shops(conn)
    order_id = booked_order(conn, owner, vin=vin)
    sign_in(client, shop_staff(conn, shop_of(conn, order_id)).email)
    card = client.get(f"/app/shop/jobs/{order_id}")
    token = csrf_of(card.text)
    for step, word in (("check-in", "checked_in"), ("start", "started")):
        done = client.post(f"/app/shop/jobs/{order_id}/{step}", data={"csrf_token": token})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"/app/shop/jobs/{order_id}?done={word}"
    return order_id, token


def test_staff_check_in_start_and_complete_with_the_report(client, owner, conn):
    open_shops(conn)
    order_id = booked_order(conn, owner, vin="WLJBK000000000001")
    staff = shop_staff(conn, shop_of(conn, order_id))
    sign_in(client, staff.email)
    inbox = client.get("/app/shop").text
    assert f'href="/app/shop/jobs/{order_id}"' in inbox
    card = client.get(f"/app/shop/jobs/{order_id}")
    assert card.status_code == 200
    assert "Job card" in card.text and "WLJBK000000000001" in card.text
    assert "Visit booked" in card.text and ">Check in</button>" in card.text
    assert "Complete the job" not in card.text  # not before work started
    token = csrf_of(card.text)
    done = client.post(f"/app/shop/jobs/{order_id}/check-in", data={"csrf_token": token})
    assert done.status_code == 303 and status_of(conn, order_id) == "checked_in"
    page = client.get(done.headers["location"]).text
    assert "Checked in." in page and ">Start the work</button>" in page
    # Checking in twice: refused in plain words, nothing changed.
    again = client.post(f"/app/shop/jobs/{order_id}/check-in", data={"csrf_token": token})
    assert again.status_code == 409 and "Nothing was changed" in again.text
    done = client.post(f"/app/shop/jobs/{order_id}/start", data={"csrf_token": token})
    assert done.status_code == 303 and status_of(conn, order_id) == "in_service"
    page = client.get(done.headers["location"]).text
    assert "Work started." in page and "Complete the job" in page
    # The odometer is prefilled with the car's last known reading, the currency the shop's.
    assert 'name="odometer" value="48214"' in page and 'name="currency"' in page
    assert re.search(r'name="currency"[^>]*value="EUR"', page)
    done = client.post(f"/app/shop/jobs/{order_id}/complete", data=report_form(token))
    assert done.status_code == 303, unescape(done.text)
    assert status_of(conn, order_id) == "completed"
    stored = conn.execute(
        "SELECT work_done, parts, cost::text, currency, odometer_km, oil_changed, pad_front_mm, "
        "pad_rear_mm, labour_h, technician FROM service_reports WHERE order_id = %s",
        (order_id,),
    ).fetchone()
    assert stored == (
        "Oil and filter changed, pads measured on both axles",
        [
            {
                "part": "Engine oil 5W-30",
                "part_number": "OIL-5W30-5L",
                "batch": "L2311-07",
                "quantity": 4.5,
                "unit": "l",
            },
            {
                "part": "Oil filter",
                "part_number": "OX 388D",
                "batch": "B-4471",
                "quantity": 1.0,
                "unit": "pc",
            },
        ],
        "94.50",
        "EUR",
        48250.0,
        True,
        7.5,
        8.5,
        0.8,
        "Jana Weber",
    )
    # The card shows the report, read-only.
    card = client.get(done.headers["location"]).text
    assert "Completed. The report is sent to the owner." in card
    assert "Report of the visit" in card and "Complete the job" not in card
    assert "batch L2311-07" in card and "part number OX 388D" in card and "Jana Weber" in card
    # The owner's order page shows the same report.
    client.cookies.clear()
    sign_in(client, owner.email)
    mine = unescape(client.get(f"/app/orders/{order_id}").text)
    assert "Report of the visit" in mine and "Oil and filter changed, pads measured" in mine
    assert "Engine oil 5W-30" in mine and "part number OIL-5W30-5L" in mine
    assert "batch L2311-07" in mine and "batch B-4471" in mine
    assert "Jana Weber" in mine and "0.8 h" in mine and "€94.50" in mine and "48,250 km" in mine


def test_an_implausible_odometer_is_refused_with_the_form_kept(client, owner, conn):
    order_id, token = in_service(client, conn, owner, "WLJBK000000000002")
    refused = client.post(
        f"/app/shop/jobs/{order_id}/complete", data=report_form(token, odometer="40000")
    )
    assert refused.status_code == 422
    text = unescape(refused.text)
    assert "The report was not saved" in text
    assert "This is below the car's last known reading (48,213 km)" in text
    assert 'name="odometer" value="40000"' in text and 'aria-invalid="true"' in text
    assert 'value="L2311-07"' in text and 'value="Jana Weber"' in text
    assert "Oil and filter changed, pads measured on both axles</textarea>" in text
    assert status_of(conn, order_id) == "in_service"
    assert (
        conn.execute("SELECT 1 FROM service_reports WHERE order_id = %s", (order_id,)).fetchone()
        is None
    )


def test_mistakes_are_named_next_to_their_fields(client, owner, conn):
    order_id, token = in_service(client, conn, owner, "WLJBK000000000003")
    refused = client.post(
        f"/app/shop/jobs/{order_id}/complete",
        data=report_form(
            token,
            pad_rear_mm="",
            cost="lots",
            technician=" ",
            part=["", "Oil filter", "", ""],
            part_number=["OIL-5W30-5L", "", "", ""],
        ),
    )
    assert refused.status_code == 422
    text = unescape(refused.text)
    assert "Measure the pads of both axles, or leave both empty." in text
    assert "Type a number, for example 6.5." in text
    assert "Fill this in." in text and "Name the part, or clear the row." in text
    assert status_of(conn, order_id) == "in_service"
    # Pads thicker than new: the orders package's refusal, next to the field.
    thick = client.post(
        f"/app/shop/jobs/{order_id}/complete", data=report_form(token, pad_front_mm="25")
    )
    assert thick.status_code == 422 and "Thicker than a new pad" in unescape(thick.text)
    # A NUL the database cannot keep: refused in words, not a server error.
    nul = client.post(
        f"/app/shop/jobs/{order_id}/complete",
        data=report_form(token, technician="Jana\x00", batch=["L2\x0011", "", "", ""]),
    )
    assert nul.status_code == 422 and "The report could not be read" in unescape(nul.text)
    assert status_of(conn, order_id) == "in_service"


def test_another_shops_job_is_not_found(client, owner, conn):
    open_shops(conn)
    order_id = booked_order(conn, owner, vin="WLJBK000000000004")
    rival = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s ORDER BY shop_id LIMIT 1",
        (shop_of(conn, order_id),),
    ).fetchone()[0]
    sign_in(client, shop_staff(conn, rival, "rival").email)
    page = client.get(f"/app/shop/jobs/{order_id}")
    assert page.status_code == 404 and "not a job of your shop" in page.text
    assert "WLJBK000000000004" not in page.text
    token = csrf_of(client.get("/app/shop").text)
    for step in ("check-in", "start"):
        refused = client.post(f"/app/shop/jobs/{order_id}/{step}", data={"csrf_token": token})
        assert refused.status_code == 404
    refused = client.post(f"/app/shop/jobs/{order_id}/complete", data=report_form(token))
    assert refused.status_code == 404 and status_of(conn, order_id) == "scheduled"


def test_an_owner_is_refused_the_job_card(client, owner, conn):
    open_shops(conn)
    order_id = booked_order(conn, owner, vin="WLJBK000000000005")
    sign_in(client, owner.email)
    page = client.get(f"/app/shop/jobs/{order_id}")
    assert page.status_code == 403 and "Only for shop staff" in page.text
    token = csrf_of(client.get("/app/cars").text)
    refused = client.post(f"/app/shop/jobs/{order_id}/check-in", data={"csrf_token": token})
    assert refused.status_code == 403 and status_of(conn, order_id) == "scheduled"


def test_a_forged_form_changes_nothing(client, owner, conn):
    order_id, _ = in_service(client, conn, owner, "WLJBK000000000006")
    forged = client.post(f"/app/shop/jobs/{order_id}/complete", data=report_form("x" * 43))
    assert forged.status_code == 403 and "This form was refused" in forged.text
    assert status_of(conn, order_id) == "in_service"


def test_the_form_reads_into_the_apis_report():
    values = {
        "work_done": "Pads measured",
        "technician": "Jana Weber",
        "cost": "1.005",
        "currency": "usd",
        "labour_h": "1e-50",  # a real column would underflow: read to the hundredth
        "pad_front_mm": "6,25",
        "pad_rear_mm": "7",
        "odometer": "1000",  # miles for this user
        "oil_changed": "no",
    }
    rows = [{"part": "", "batch": " "}, {"part": "Shim", "quantity": "2"}]
    form, report = read_form(values, rows, "imperial")
    assert form.errors == {} and report is not None
    assert (report.labour_h, report.pad_front_mm, report.pad_rear_mm) == (0.0, 6.25, 7.0)
    assert report.odometer_km == 1609.344 and report.currency == "USD"
    assert str(report.cost) == "1.00" and report.parts == [{"part": "Shim", "quantity": 2.0}]
    assert report.oil_changed is False and report.technician == "Jana Weber"
