# SPDX-License-Identifier: MIT
"""CSRF: every POST carries its session's form token, else a plain-words 403 and no change."""

from __future__ import annotations

from fastapi.testclient import TestClient
from test_web_sessions import csrf_of, sign_in
from web_helpers import PASSWORD

from web.deps import CSRF_EXEMPT_PREFIXES

REFUSED = "This form was refused"


def test_a_sign_in_form_without_the_token_is_refused(client, owner):
    client.get("/app/signin")
    forged = client.post("/app/signin", data={"email": owner.email, "password": PASSWORD})
    assert forged.status_code == 403 and REFUSED in forged.text
    assert "nothing was changed" in forged.text
    assert "wl_session" not in (forged.headers.get("set-cookie") or "")


def test_a_sign_in_form_with_a_token_of_its_own_making_is_refused(client, owner):
    # A forging site can put any token in its form, but not in this site's cookie.
    forged = client.post(
        "/app/signin",
        data={"email": owner.email, "password": PASSWORD, "csrf_token": "chosen-by-attacker"},
    )
    assert forged.status_code == 403


def test_a_forged_sign_out_everywhere_changes_nothing(client, owner, conn):
    sign_in(client, owner.email)
    forged = client.post("/app/signout/everywhere", data={"csrf_token": "guessed"})
    assert forged.status_code == 403 and REFUSED in forged.text
    assert conn.execute("SELECT count(*) FROM web_sessions").fetchone()[0] == 1
    assert client.get("/app/cars").status_code == 200


def test_another_sessions_token_does_not_pass(client, owner, conn):
    sign_in(client, owner.email)
    other = TestClient(client.app, follow_redirects=False)
    sign_in(other, owner.email)
    others_token = csrf_of(other.get("/app/cars").text)
    forged = client.post("/app/signout/everywhere", data={"csrf_token": others_token})
    assert forged.status_code == 403
    assert conn.execute("SELECT count(*) FROM web_sessions").fetchone()[0] == 2


def test_every_post_route_is_checked(client):
    """No POST route of the app answers a form without a token with anything but 403."""
    web_app = client.app.state.web
    # Its OpenAPI document is not served, but it still lists every route.
    posts = [path for path, ops in web_app.openapi()["paths"].items() if "post" in ops]
    assert len(posts) >= 5
    for path in posts:
        answer = client.post(f"/app{path}", data={"email": "x@example.test"})
        if path.startswith(CSRF_EXEMPT_PREFIXES):
            # One-click unsubscribe (RFC 8058): its link's own token is the proof; without a
            # valid one it does nothing.
            assert answer.status_code == 410, path
        else:
            assert answer.status_code == 403, path
