# SPDX-License-Identifier: MIT
"""Sign-in by a one-time link sent through a real SMTP server: one use, 15 minutes, no hint of
which addresses have accounts, and the login budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from test_web_sessions import csrf_of
from web_helpers import link_in, make_owner, web_app

from web.tokens import token_hash

SENT = "If an account uses that address, we have sent it a sign-in link."


def ask_for_link(client: TestClient, email: str):
    """Send the sign-in page's link form."""
    page = client.get("/app/signin")
    return client.post("/app/signin/link", data={"email": email, "csrf_token": csrf_of(page.text)})


def use_link(client: TestClient, url: str):
    """Open a mailed link and press its button."""
    page = client.get(url.replace("http://testserver", ""))
    assert page.status_code == 200 and "Sign in with this link" in page.text
    token = url.split("token=", 1)[1]
    return client.post(
        "/app/signin/link/use", data={"token": token, "csrf_token": csrf_of(page.text)}
    )


def test_a_mailed_link_signs_in_once(client, owner, smtp, conn):
    answer = ask_for_link(client, owner.email.upper())  # any capitalisation, like a login
    assert answer.status_code == 200 and SENT in answer.text
    message = smtp.mailbox.wait_for(owner.email)
    assert message["Subject"] == "Your Wrenchlight sign-in link"
    assert message["From"] == "Wrenchlight <wl@test>"
    url = link_in(message)
    assert "15 minutes" in message.get_body(preferencelist=("plain",)).get_content()
    # The database keeps the token's hash only.
    token = url.split("token=", 1)[1]
    assert conn.execute("SELECT token_hash FROM web_signin_links").fetchall() == [
        (token_hash(token),)
    ]
    # Opening the link spends nothing (mail scanners fetch links): the button does.
    client.get(url.replace("http://testserver", ""))
    signed_in = use_link(client, url)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/app/"
    assert client.get("/app/").headers["location"] == "/app/cars"
    assert client.get("/app/cars").status_code == 200

    again = TestClient(client.app, follow_redirects=False)
    reused = use_link(again, url)
    assert reused.status_code == 410 and "This link no longer works" in reused.text
    assert again.get("/app/cars").status_code == 303


def test_the_link_points_at_the_configured_address_whatever_the_host_header(client, owner, smtp):
    page = client.get("/app/signin")
    client.post(
        "/app/signin/link",
        data={"email": owner.email, "csrf_token": csrf_of(page.text)},
        headers={"Host": "attacker.example"},
    )
    assert link_in(smtp.mailbox.wait_for(owner.email)).startswith("http://testserver/app/")


def test_the_mail_speaks_the_pages_language(client, owner, smtp):
    page = client.get("/app/signin", headers={"Accept-Language": "zh-CN"})
    client.post(
        "/app/signin/link",
        data={"email": owner.email, "csrf_token": csrf_of(page.text)},
        headers={"Accept-Language": "zh-CN"},
    )
    message = smtp.mailbox.wait_for(owner.email)
    assert message["Subject"] == "您的 Wrenchlight 登录链接"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "15 分钟内使用" in body and link_in(message)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, owner, smtp):
    known = ask_for_link(client, owner.email)
    unknown = ask_for_link(client, "nobody-at-all@example.test")
    assert unknown.status_code == known.status_code == 200
    assert SENT in unknown.text
    smtp.mailbox.wait_for(owner.email)
    assert smtp.mailbox.to("nobody-at-all@example.test") == []


def test_an_expired_link_is_refused(client, owner, smtp, conn):
    ask_for_link(client, owner.email)
    url = link_in(smtp.mailbox.wait_for(owner.email))
    conn.execute(
        "UPDATE web_signin_links SET expires_at = %s",
        (datetime.now(UTC) - timedelta(seconds=1),),
    )
    assert use_link(client, url).status_code == 410
    assert client.get("/app/cars").status_code == 303


def test_links_live_fifteen_minutes(client, owner, smtp, conn):
    ask_for_link(client, owner.email)
    smtp.mailbox.wait_for(owner.email)
    created, expires = conn.execute(
        "SELECT created_at, expires_at FROM web_signin_links"
    ).fetchone()
    assert expires - created == timedelta(minutes=15)


def test_a_made_up_token_is_refused(client):
    page = client.get("/app/signin/link?token=made-up")
    refused = client.post(
        "/app/signin/link/use", data={"token": "made-up", "csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 410


def test_link_requests_spend_the_login_budget(db_url, smtp, conn):
    owner = make_owner(conn)
    app = web_app(db_url, f"smtp://127.0.0.1:{smtp.port}", logins="2/minute")
    with TestClient(app, follow_redirects=False) as client:
        statuses = [ask_for_link(client, owner.email).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_links_to_one_address_are_limited_whatever_the_network(db_url, smtp, conn):
    owner = make_owner(conn)
    app = web_app(db_url, f"smtp://127.0.0.1:{smtp.port}", logins="2/minute")
    statuses = []
    for network in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        with TestClient(app, client=(network, 50000), follow_redirects=False) as client:
            statuses.append(ask_for_link(client, owner.email).status_code)
    assert statuses == [200, 200, 429]


def test_without_smtp_no_link_is_offered(db_url):
    with TestClient(web_app(db_url, None), follow_redirects=False) as client:
        page = client.get("/app/signin")
        assert "Email me a sign-in link" not in page.text
        assert ask_for_link(client, "someone@example.test").status_code == 404
