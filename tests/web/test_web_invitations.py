# SPDX-License-Identifier: MIT
"""Accepting an invitation in the web app over HTTP: the admin console mails the link (at the
configured address), the page sets the password and name, signs the person in and sends them
to their role's first page; a code typed by hand (an API invitation) works too; unknown, used
and expired codes are said in plain words; the attempts spend the sign-in budget."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import factories
import pytest
from fastapi.testclient import TestClient
from test_web_admin import as_user, post
from test_web_sessions import csrf_of, sign_in
from web_helpers import AUTH, PASSWORD, web_app

from api.auth.invitations import invite
from api.auth.tokens import issue_access_token
from wrenchlight.embedded import free_port

NEW_PASSWORD = "a long and new passphrase"


@pytest.fixture
def admin(conn):
    """An admin with a password."""
    return factories.user(conn, "admin", password=PASSWORD)


def invite_link(body: str) -> str:
    """The accept link of an invitation mail's text."""
    found = re.search(r"https?://\S+/app/invitations/accept\?token=\S+", body)
    assert found is not None, body
    return found.group(0)


def plain(message) -> str:
    """A mail's plain text."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def accept(client: TestClient, path: str, **fields: str):
    """Open the accept page at ``path`` and send its form with ``fields``."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_of(page.text), "name": "Kim Becker", "password": NEW_PASSWORD}
    # The form's hidden field carries the link's token.
    hidden = re.search(r'<input type="hidden" name="token" value="([^"]*)">', page.text)
    data |= {"repeated": NEW_PASSWORD, "token": hidden.group(1) if hidden else ""} | fields
    return client.post("/app/invitations/accept", data=data)


def token_of(link: str) -> str:
    """The token of an accept link."""
    return link.rsplit("token=", 1)[1]


def test_the_admin_mails_the_link_and_the_invitee_sets_a_password_and_lands_on_the_fleet(
    client, conn, admin, smtp
):
    fleet = factories.fleet(conn, name="Becker Logistics")
    csrf = as_user(client, admin.email)
    answer = post(client, f"/app/admin/fleets/{fleet.fleet_id}/manager", csrf, email="kim@b.test")
    assert answer.status_code == 200
    assert "We mailed them a link" in answer.text
    message = smtp.mailbox.wait_for("kim@b.test")
    assert message["Subject"] == "Your invitation to Wrenchlight"
    text = plain(message)
    assert "manager of the fleet Becker Logistics" in text
    link = invite_link(text)
    # At the configured address, never the request's Host header.
    assert link.startswith("http://testserver/app/invitations/accept?token=")
    # The admin's page shows the same link once, in case the mail does not arrive.
    assert token_of(link) in answer.text
    client.cookies.clear()
    path = link.removeprefix("http://testserver")
    page = client.get(path)
    assert "You are invited as manager of the fleet Becker Logistics" in page.text
    assert "kim@b.test" in page.text
    # Mistakes are said by their field; nothing is made.
    differs = accept(client, path, repeated="another passphrase")
    assert differs.status_code == 422 and "The two passwords differ" in differs.text
    short = accept(client, path, password="short", repeated="short", name=" ")
    assert short.status_code == 422
    assert "at least 8 characters" in short.text and "Give your name" in short.text
    assert conn.execute("SELECT count(*) FROM users WHERE email = 'kim@b.test'").fetchone()[0] == 0
    done = accept(client, path, name="  Kim   Becker ")
    assert done.status_code == 303 and done.headers["location"] == "/app/"
    assert any(c.startswith("wl_session=") for c in done.headers.get_list("set-cookie"))
    assert client.get("/app/").headers["location"] == "/app/fleet"
    assert client.get("/app/fleet").status_code == 200
    row = conn.execute(
        "SELECT role, fleet_id, name FROM users WHERE email = 'kim@b.test'"
    ).fetchone()
    assert row == ("fleet_manager", fleet.fleet_id, "Kim Becker")
    # The password chosen signs in; the link is spent.
    client.cookies.clear()
    assert sign_in(client, "kim@b.test", NEW_PASSWORD).status_code == 303
    client.cookies.clear()
    again = client.get(path)
    assert again.status_code == 410 and "was used already" in again.text
    assert "Set my password" not in again.text
    # The console shows the name the manager gave.
    as_user(client, admin.email)
    user_id = conn.execute("SELECT user_id FROM users WHERE email = 'kim@b.test'").fetchone()[0]
    assert "Kim Becker" in client.get(f"/app/admin/users/{user_id}").text


def test_a_code_handed_over_from_the_api_is_typed_on_the_form(client, conn, admin):
    shop = factories.shop(conn, name="Lake Street Garage")
    bearer = {"Authorization": f"Bearer {issue_access_token(AUTH, admin.user_id)}"}
    made = client.post(
        "/auth/invitations",
        json={"email": "sam@lakest.test", "role": "shop_staff", "shop_id": shop.shop_id},
        headers=bearer,
    )
    assert made.status_code == 201
    page = client.get("/app/invitations/accept")
    assert page.status_code == 200 and "Invitation code" in page.text
    done = accept(client, "/app/invitations/accept", token=f" {made.json()['token']} ")
    assert done.status_code == 303
    assert client.get("/app/").headers["location"] == "/app/shop"
    row = conn.execute("SELECT role, shop_id FROM users WHERE email = 'sam@lakest.test'")
    assert row.fetchone() == ("shop_staff", shop.shop_id)


def test_unknown_expired_and_used_codes_are_said_in_plain_words(client, conn):
    fleet = factories.fleet(conn)
    unknown = client.get("/app/invitations/accept?token=not-a-real-code")
    assert unknown.status_code == 404 and "No invitation has this code" in unknown.text
    typed = accept(client, "/app/invitations/accept", token="not-a-real-code")
    assert typed.status_code == 404 and "No invitation has this code" in typed.text
    old = invite(
        conn=conn,
        email="late@b.test",
        role="fleet_manager",
        fleet_id=fleet.fleet_id,
        now=datetime.now(UTC) - timedelta(days=30),
    )
    expired = client.get(f"/app/invitations/accept?token={old.token}")
    assert expired.status_code == 410 and "has expired" in expired.text
    form = client.get("/app/invitations/accept")
    late = client.post(
        "/app/invitations/accept",
        data={
            "csrf_token": csrf_of(form.text),
            "token": old.token,
            "name": "Late",
            "password": NEW_PASSWORD,
            "repeated": NEW_PASSWORD,
        },
    )
    assert late.status_code == 410 and "has expired" in late.text
    assert conn.execute("SELECT count(*) FROM users WHERE email = 'late@b.test'").fetchone()[0] == 0
    # Without the form token, nothing is made.
    fresh = invite(
        conn=conn,
        email="new@b.test",
        role="fleet_manager",
        fleet_id=fleet.fleet_id,
        now=datetime.now(UTC),
    )
    fields = {"token": fresh.token, "name": "X", "password": NEW_PASSWORD}
    forged = client.post("/app/invitations/accept", data=fields | {"repeated": NEW_PASSWORD})
    assert forged.status_code == 403
    used = conn.execute("SELECT accepted_at FROM invitations WHERE email = 'new@b.test'")
    assert used.fetchone() == (None,)


def test_accepting_signs_out_whoever_was_signed_in_on_the_browser(client, conn, owner):
    fleet = factories.fleet(conn)
    fresh = invite(
        conn=conn,
        email="next@b.test",
        role="fleet_manager",
        fleet_id=fleet.fleet_id,
        now=datetime.now(UTC),
    )
    sign_in(client, owner.email)
    before = conn.execute(
        "SELECT count(*) FROM web_sessions WHERE user_id = %s",
        (owner.user_id,),
    ).fetchone()[0]
    assert before == 1
    done = accept(client, f"/app/invitations/accept?token={fresh.token}")
    assert done.status_code == 303
    assert client.get("/app/").headers["location"] == "/app/fleet"
    after = conn.execute(
        "SELECT count(*) FROM web_sessions WHERE user_id = %s",
        (owner.user_id,),
    ).fetchone()[0]
    assert after == 0


def test_codes_cannot_be_tried_in_bulk(db_url, smtp, conn):
    app = web_app(db_url, f"smtp://127.0.0.1:{smtp.port}", logins="3/minute")
    with TestClient(app, follow_redirects=False) as client:
        answers = [
            client.get(f"/app/invitations/accept?token=guess-{i}").status_code for i in range(3)
        ]
        assert answers == [404, 404, 404]
        refused = client.get("/app/invitations/accept?token=guess-4")
        assert refused.status_code == 429 and "Too many attempts" in refused.text
        assert "retry-after" in {k.lower() for k in refused.headers}
        form = client.get("/app/invitations/accept")  # the empty form spends nothing
        assert form.status_code == 200
        posted = client.post(
            "/app/invitations/accept",
            data={"csrf_token": csrf_of(form.text), "token": "guess-5", "password": "x"},
        )
        assert posted.status_code == 429


def test_a_refusing_mail_server_leaves_the_admin_the_link_to_hand_over(db_url, conn, admin):
    closed = free_port()  # nobody listens there
    app = web_app(db_url, f"smtp://127.0.0.1:{closed}")
    fleet = factories.fleet(conn, name="Becker Logistics")
    with TestClient(app, follow_redirects=False) as client:
        csrf = as_user(client, admin.email)
        answer = post(
            client, f"/app/admin/fleets/{fleet.fleet_id}/manager", csrf, email="kim@b.test"
        )
    assert answer.status_code == 200
    assert "could not be mailed" in answer.text and "Hand them this one-time link" in answer.text
    link = re.search(r'<code class="admin-link">([^<]+)</code>', answer.text)
    assert link is not None
    assert link.group(1).startswith("http://testserver/app/invitations/accept?token=")
    detail = conn.execute(
        "SELECT detail FROM audit_log WHERE path LIKE '/app/admin/fleets/%' ORDER BY id DESC"
    ).fetchone()[0]
    assert detail == f"invited kim@b.test to manage fleet {fleet.fleet_id} (mail refused)"


def test_the_console_invites_staff_into_a_verified_shop_by_mail(client, conn, admin, smtp):
    shop = factories.shop(conn, name="Lake Street Garage")
    taken = factories.user(conn, "owner")
    csrf = as_user(client, admin.email)
    listed = client.get("/app/admin/shops?state=verified").text
    assert "Invite staff to Lake Street Garage by email" in listed
    answer = post(client, f"/app/admin/shops/{shop.shop_id}/staff", csrf, email="kim@lakest.test")
    assert answer.status_code == 200
    assert "kim@lakest.test is invited to the staff of Lake Street Garage." in answer.text
    # The shop's first invitation, its role left to the platform: its manager.
    assert "They will be its manager." in answer.text
    text = plain(smtp.mailbox.wait_for("kim@lakest.test"))
    assert "staff of the shop Lake Street Garage" in text
    refused = post(client, f"/app/admin/shops/{shop.shop_id}/staff", csrf, email=taken.email)
    assert refused.status_code == 409 and "has an account already" in refused.text
    missing = post(client, "/app/admin/shops/999999/staff", csrf, email="x@y.test")
    assert missing.status_code == 404 and "no such shop" in missing.text
    # Only admins invite: the shop's own staff get the console's plain 403.
    client.cookies.clear()
    done = accept(client, invite_link(text).removeprefix("http://testserver"))
    assert done.status_code == 303
    assert client.get("/app/").headers["location"] == "/app/shop"
    csrf = csrf_of(client.get("/app/settings").text)
    again = post(client, f"/app/admin/shops/{shop.shop_id}/staff", csrf, email="more@lakest.test")
    assert again.status_code == 403
    emails = conn.execute(
        "SELECT email, shop_role FROM invitations ORDER BY invitation_id"
    ).fetchall()
    assert emails == [("kim@lakest.test", "manager")]


def test_the_console_invites_staff_as_the_role_picked(client, conn, admin, smtp):
    shop = factories.shop(conn, name="Role Garage")
    csrf = as_user(client, admin.email)
    url = f"/app/admin/shops/{shop.shop_id}/staff"
    answer = post(client, url, csrf, email="tech@role.test", shop_role="technician")
    assert answer.status_code == 200 and "They will be a technician." in answer.text
    post(client, url, csrf, email="boss@role.test", shop_role="manager")
    post(client, url, csrf, email="odd@role.test", shop_role="owner")  # not a shop role
    roles = conn.execute(
        "SELECT email, shop_role FROM invitations ORDER BY invitation_id"
    ).fetchall()
    # A role that is none of the shop's is the default: manager while the shop has none.
    assert roles == [
        ("tech@role.test", "technician"),
        ("boss@role.test", "manager"),
        ("odd@role.test", "manager"),
    ]
