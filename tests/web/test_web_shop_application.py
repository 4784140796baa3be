# SPDX-License-Identifier: MIT
"""A shop that applied, as its staff see it over HTTP: waiting, or rejected with the reason
and what to do, instead of an empty inbox, calendar or KPIs; the profile stays editable; the
admin's decision reaches the applicant by mail in their language; a rejected shop asks for
another look."""

from __future__ import annotations

import factories
import pytest
from fastapi.testclient import TestClient
from test_web_admin import _apply, as_user, post
from test_web_invitations import plain
from web_helpers import PASSWORD, web_app

from wrenchlight.embedded import free_port

APPLICANT = "sam@lakest.example"


@pytest.fixture
def admin(conn):
    """An admin with a password."""
    return factories.user(conn, "admin", password=PASSWORD)


def applied(client: TestClient, conn) -> int:
    """Lake Street Garage applies through the form; its shop id."""
    assert _apply(client).status_code == 200
    return conn.execute("SELECT shop_id FROM shops WHERE name = 'Lake Street Garage'").fetchone()[0]


def test_a_waiting_shop_sees_its_application_instead_of_an_empty_inbox(client, conn):
    shop_id = applied(client, conn)
    as_user(client, APPLICANT)
    assert client.get("/app/").headers["location"] == "/app/shop"
    for path in ("/app/shop", "/app/shop/calendar", "/app/shop/kpis"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "Your application is waiting for verification" in page.text, path
        assert "Offers to answer" not in page.text and "Free" not in page.text, path
    # The profile stays the shop's to complete while it waits.
    profile = client.get("/app/shop/profile")
    assert profile.status_code == 200 and 'action="/app/shop/profile"' in profile.text
    # Asking for another look is for a rejected shop: a waiting one stays as it is.
    csrf = as_user(client, APPLICANT)
    same = post(client, "/app/shop/application/again", csrf)
    assert same.status_code == 303 and same.headers["location"] == "/app/shop"
    row = conn.execute("SELECT verification FROM shops WHERE shop_id = %s", (shop_id,))
    assert row.fetchone() == ("pending",)


def test_rejected_then_asked_again_then_verified_each_told_by_mail(client, conn, admin, smtp):
    shop_id = applied(client, conn)
    csrf = as_user(client, admin.email)
    rejected = post(client, f"/app/admin/shops/{shop_id}/reject", csrf, reason="No street address")
    assert rejected.headers["location"] == "/app/admin/shops?done=rejected&state=rejected"
    message = smtp.mailbox.wait_for(APPLICANT)
    assert message["Subject"] == "Your application for Lake Street Garage was rejected"
    text = plain(message)
    assert "No street address" in text and "ask for another look" in text
    assert "http://testserver/app/" in text
    # The applicant reads the reason and what to do.
    csrf = as_user(client, APPLICANT)
    page = client.get("/app/shop")
    assert "Your application was rejected: No street address" in page.text
    assert "Ask for another look" in page.text and "Edit your shop's profile" in page.text
    asked = post(client, "/app/shop/application/again", csrf)
    assert asked.headers["location"] == "/app/shop?done=again"
    page = client.get(asked.headers["location"])
    assert "waits for an admin again" in page.text
    assert "Your application is waiting for verification" in page.text
    row = conn.execute(
        "SELECT verification, rejected_at, rejection_reason FROM shops WHERE shop_id = %s",
        (shop_id,),
    )
    assert row.fetchone() == ("pending", None, None)
    # Back in the admin's queue; verified, the applicant is told and has an inbox.
    csrf = as_user(client, admin.email)
    assert "Lake Street Garage" in client.get("/app/admin/shops").text
    verified = post(client, f"/app/admin/shops/{shop_id}/verify", csrf)
    assert verified.headers["location"] == "/app/admin/shops?done=verified"
    smtp.mailbox.wait_for_count(APPLICANT, 2)
    news = smtp.mailbox.to(APPLICANT)[1]
    assert news["Subject"] == "Lake Street Garage is verified on Wrenchlight"
    assert "offered bookings" in plain(news)
    # Verifying again is no news: no second mail.
    assert post(client, f"/app/admin/shops/{shop_id}/verify", csrf).status_code == 303
    as_user(client, APPLICANT)
    inbox = client.get("/app/shop")
    assert "Offers to answer" in inbox.text and "Your application" not in inbox.text
    assert client.get("/app/shop/calendar").status_code == 200
    assert "waiting for verification" not in client.get("/app/shop/calendar").text
    assert len(smtp.mailbox.to(APPLICANT)) == 2
    details = [
        r[0]
        for r in conn.execute(
            "SELECT detail FROM audit_log WHERE object_type = 'shop' AND detail IS NOT NULL "
            "ORDER BY id"
        ).fetchall()
    ]
    assert details[0] == f"shop {shop_id} applied"
    assert details[1] == (
        f"rejected shop {shop_id} (Lake Street Garage): No street address; staff mailed"
    )
    assert details[2] == f"shop {shop_id} asked for another look"
    assert details[3] == f"verified shop {shop_id} (Lake Street Garage); staff mailed"


def test_the_mail_is_in_the_applicants_language(client, conn, admin, smtp):
    shop_id = applied(client, conn)
    conn.execute("UPDATE users SET language = 'zh_Hans' WHERE email = %s", (APPLICANT,))
    csrf = as_user(client, admin.email)
    post(client, f"/app/admin/shops/{shop_id}/reject", csrf, reason="缺少地址")
    message = smtp.mailbox.wait_for(APPLICANT)
    assert message["Subject"] == "Lake Street Garage 的申请被拒绝"
    assert "缺少地址" in plain(message) and "申请重新审核" in plain(message)


def test_only_a_shops_own_staff_ask_for_another_look(client, conn, admin, owner):
    shop_id = applied(client, conn)
    conn.execute(
        "UPDATE shops SET verification = 'rejected', rejected_at = now(), rejection_reason = 'x' "
        "WHERE shop_id = %s",
        (shop_id,),
    )
    for email in (owner.email, admin.email):
        csrf = as_user(client, email)
        refused = post(client, "/app/shop/application/again", csrf)
        assert refused.status_code == 403, email
    # A working shop's staff see their inbox, and asking changes nothing.
    working = factories.shop(conn, name="Verified Garage")
    staff = factories.user(conn, "shop_staff", password=PASSWORD, shop_id=working.shop_id)
    csrf = as_user(client, staff.email)
    assert "Your application" not in client.get("/app/shop").text
    assert post(client, "/app/shop/application/again", csrf).headers["location"] == "/app/shop"
    rows = conn.execute(
        "SELECT shop_id, rejected_at IS NOT NULL, verified_at IS NOT NULL FROM shops "
        "ORDER BY shop_id",
    ).fetchall()
    assert rows == [(shop_id, True, False), (working.shop_id, False, True)]


def test_a_refusing_mail_server_is_said_to_the_admin(db_url, conn, admin):
    closed = free_port()  # nobody listens there
    app = web_app(db_url, f"smtp://127.0.0.1:{closed}")
    with TestClient(app, follow_redirects=False) as client:
        shop_id = applied(client, conn)
        csrf = as_user(client, admin.email)
        verified = post(client, f"/app/admin/shops/{shop_id}/verify", csrf)
        assert verified.headers["location"] == "/app/admin/shops?done=verified_unmailed"
        page = client.get(verified.headers["location"]).text
    assert "could not be sent: tell them yourself" in page
    row = conn.execute("SELECT verified_at IS NOT NULL FROM shops WHERE shop_id = %s", (shop_id,))
    assert row.fetchone() == (True,)
