# SPDX-License-Identifier: MIT
"""Sessions over HTTP: cookie flags, sign-in and out, expiry, sign-out everywhere, the
anonymous form token, and the login budget."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from web_helpers import PASSWORD, make_owner, web_app

from web.tokens import token_hash


def csrf_of(html: str) -> str:
    """The form token of a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD):
    """Open the sign-in page and send its form."""
    page = client.get("/app/signin")
    return client.post(
        "/app/signin",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
    )


def test_password_sign_in_sets_a_safe_cookie_and_shows_the_cars(client, owner, conn):
    response = sign_in(client, owner.email)
    assert response.status_code == 303 and response.headers["location"] == "/app/"
    assert client.get("/app/").headers["location"] == "/app/cars"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("wl_session="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/app" in flags
    assert "expires=" in flags and "secure" not in flags  # plain http: no Secure
    token = cookie.split(";")[0].split("=", 1)[1]
    # The database keeps the token's hash, never the token.
    stored = conn.execute("SELECT token_hash FROM web_sessions").fetchall()
    assert stored == [(token_hash(token),)]
    page = client.get("/app/cars")
    assert page.status_code == 200 and "My cars" in page.text and owner.email in page.text


def test_the_cookie_is_secure_over_https(db_url, smtp, owner):
    app = web_app(db_url, None)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        response = sign_in(client, owner.email)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("wl_session="))
    assert "secure" in cookie.lower()


def test_a_wrong_password_is_refused_like_an_unknown_email(client, owner):
    wrong = sign_in(client, owner.email, "not the password")
    unknown = sign_in(client, "nobody@example.test", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "Email or password is wrong." in response.text
    assert "wl_session" not in (wrong.headers.get("set-cookie") or "")


def test_pages_need_a_session(client):
    response = client.get("/app/cars")
    assert response.status_code == 303 and response.headers["location"] == "/app/signin"


def test_an_expired_session_signs_nobody_in(client, owner, conn):
    sign_in(client, owner.email)
    conn.execute(
        "UPDATE web_sessions SET expires_at = %s", (datetime.now(UTC) - timedelta(seconds=1),)
    )
    assert client.get("/app/cars").headers["location"] == "/app/signin"


def test_sign_out_ends_this_session_only(client, owner, db_url, conn):
    sign_in(client, owner.email)
    with TestClient(web_app(db_url, None), follow_redirects=False) as other:
        sign_in(other, owner.email)
        page = client.get("/app/cars")
        out = client.post("/app/signout", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/app/signin"
        assert client.get("/app/cars").status_code == 303
        assert other.get("/app/cars").status_code == 200
    assert conn.execute("SELECT count(*) FROM web_sessions").fetchone()[0] == 1


def test_sign_out_everywhere_ends_every_session(client, owner, db_url, conn):
    sign_in(client, owner.email)
    with TestClient(web_app(db_url, None), follow_redirects=False) as other:
        sign_in(other, owner.email)
        page = other.get("/app/cars")
        out = other.post("/app/signout/everywhere", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303
        assert client.get("/app/cars").status_code == 303
        assert other.get("/app/cars").status_code == 303
    assert conn.execute("SELECT count(*) FROM web_sessions").fetchone()[0] == 0


def test_password_sign_in_spends_the_login_budget(db_url, smtp, conn):
    owner = make_owner(conn)
    with TestClient(web_app(db_url, None, logins="3/minute"), follow_redirects=False) as client:
        statuses = [sign_in(client, owner.email, "wrong").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        refused = sign_in(client, owner.email)  # even the right password, until it resets
        assert refused.status_code == 429 and "Too many attempts" in refused.text
        assert int(refused.headers["retry-after"]) >= 1


def test_writes_are_in_the_apis_audit_log_with_who_acted(client, owner, conn):
    sign_in(client, owner.email)
    page = client.get("/app/cars")
    client.post("/app/signout", data={"csrf_token": csrf_of(page.text)})
    rows = conn.execute(
        "SELECT user_id, method, path, status FROM audit_log ORDER BY id"
    ).fetchall()
    assert rows == [
        (None, "POST", "/app/signin", 303),
        (owner.user_id, "POST", "/app/signout", 303),
    ]
