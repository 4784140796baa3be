# SPDX-License-Identifier: MIT
"""Settings in a real browser, found by role and label: add a notification channel, send it a
test, turn a kind off for mail; and a private address refused in plain words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notify_helpers import HttpReceiver, notify_app, wait_for
from playwright.sync_api import Page, expect
from test_web_browser import sign_in
from web_browser import ThreadServer

from web.notify import channels
from wrenchlight.embedded import free_port


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """A local HTTP server standing in for a notification service."""
    found = HttpReceiver()
    found.port = found.start()
    yield found
    found.stop()


@pytest.fixture
def allowing_server(db_url, smtp) -> Iterator[str]:
    """The app served over HTTP, its operator allowing 127.0.0.1 as a destination."""
    port = free_port()
    app = notify_app(
        db_url,
        f"smtp://127.0.0.1:{smtp.port}",
        allow=("127.0.0.1",),
        base_url=f"http://127.0.0.1:{port}",
    )
    running = ThreadServer(app, port)
    url = running.start()
    yield url
    running.stop()


def test_settings_add_a_channel_test_it_and_choose_kinds(
    page: Page, allowing_server, owner, conn, receiver
):
    sign_in(page, allowing_server, owner.email)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    page.get_by_label("Channel URL").fill(f"json://127.0.0.1:{receiver.port}/")
    page.get_by_label("Name (optional)").fill("My phone")
    page.get_by_role("button", name="Add channel").click()
    expect(page.get_by_role("status")).to_have_text("Channel added.")
    page.get_by_role("button", name="Send a test message to My phone").click()
    expect(page.get_by_role("status")).to_contain_text("Test message sent.")
    wait_for(lambda: len(receiver.received) == 1, 10, "the test message")

    page.get_by_label("Oil or brake pads reach a new tier: Email").uncheck()
    page.get_by_role("button", name="Save choices").click()
    expect(page.get_by_role("status")).to_have_text("Your choices are saved.")
    expect(page.get_by_label("Oil or brake pads reach a new tier: Email")).not_to_be_checked()
    expect(page.get_by_label("Oil or brake pads reach a new tier: My phone")).to_be_checked()
    email = next(c for c in channels.of_user(conn, owner.user_id) if c.kind == "email")
    assert email.muted == {"tier_crossed"}


def test_settings_refuse_a_private_address_in_plain_words(page: Page, server, owner):
    sign_in(page, server, owner.email)
    page.goto(f"{server}/app/settings")
    page.get_by_label("Channel URL").fill("ntfy://192.168.1.20/car")
    page.get_by_role("button", name="Add channel").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "This address is not on the public internet, so Wrenchlight does not send there."
    )
    expect(page.get_by_label("Channel URL")).to_have_value("ntfy://192.168.1.20/car")
