# SPDX-License-Identifier: MIT
"""The demo's mailbox: the demo's SMTP server keeps what it receives, and the app shows each
user the mail sent to them (an admin all of it), HTML in a sandbox; only in the demo."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import factories
import pytest
from fastapi.testclient import TestClient
from notify_helpers import dispatch, notify_app, notify_config, raise_alert, settle_outbox, wait_for
from test_web_links import ask_for_link
from test_web_sessions import sign_in
from web_helpers import PASSWORD, make_car, make_owner

from wrenchlight.mailbox import DemoMailServer


@pytest.fixture
def demo_smtp(db_url) -> Iterator[str]:
    """The demo's own mail server on the test database; its URL."""
    server = DemoMailServer(db_url)
    yield server.start()
    server.stop()


def test_the_demo_mailbox_shows_owners_their_mail(db_url, conn, demo_smtp):
    owner = make_owner(conn)
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0301")
    settle_outbox(conn)
    raise_alert(conn, vehicle_id, message="<script>alert(1)</script>")
    dispatch(conn, notify_config(demo_smtp), datetime.now(UTC))
    wait_for(lambda: conn.execute("SELECT count(*) FROM demo_mail").fetchone()[0] == 1, 10, "mail")
    (mail_id,) = conn.execute("SELECT mail_id FROM demo_mail").fetchone()

    app = notify_app(db_url, demo_smtp, demo_mailbox=True)
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, owner.email)
        listing = client.get("/app/demo/mail")
        assert listing.status_code == 200
        assert "Volkswagen Golf 2019: oil change due soon" in listing.text
        one = client.get(f"/app/demo/mail/{mail_id}")
        assert one.status_code == 200
        # The HTML only inside a sandboxed frame, escaped into its srcdoc attribute.
        assert 'sandbox=""' in one.text and 'srcdoc="&lt;!doctype html&gt;' in one.text
        assert "<table role" not in one.text and "<script>" not in one.text
        assert "http://testserver/app/n/" in one.text  # the one-tap link, clickable

    stranger = make_owner(conn)
    admin = factories.user(conn, "admin", password=PASSWORD)
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, stranger.email)
        assert "oil change due soon" not in client.get("/app/demo/mail").text
        assert client.get(f"/app/demo/mail/{mail_id}").status_code == 404
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, admin.email)
        assert client.get(f"/app/demo/mail/{mail_id}").status_code == 200


def test_without_the_demo_there_is_no_mailbox_page(client, owner):
    sign_in(client, owner.email)
    assert client.get("/app/demo/mail").status_code == 404


def test_in_the_demo_the_link_page_says_where_the_mail_went(db_url, conn, demo_smtp, client):
    owner = make_owner(conn)
    app = notify_app(db_url, demo_smtp, demo_mailbox=True)
    with TestClient(app, follow_redirects=False) as demo:
        sent = ask_for_link(demo, owner.email)
        assert "its mail stays in the demo mailbox" in sent.text
    # Outside the demo the page promises an inbox, and names no mailbox.
    assert "demo mailbox" not in ask_for_link(client, owner.email).text
