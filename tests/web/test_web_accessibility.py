# SPDX-License-Identifier: MIT
"""The owner's pages checked by axe-core (the accessibility engine browsers' own audit tools
use) in Chromium: no serious or critical violation of WCAG 2.1 A and AA on any of them, in
English and in Chinese, at phone width.

axe-core comes pinned inside the ``axe-playwright-python`` package and is injected by the test
alone; the app serves none of it.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from car_history import make_car_with_history
from test_web_browser import sign_in
from web_order_helpers import open_shops, proposed_order

# WCAG 2.1 A and AA, what the "accessible" asks for; best practices are advice.
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING = {"serious", "critical"}


def violations(page) -> list[str]:
    """The page's serious and critical violations, one line each: rule, impact, where."""
    found = Axe().run(page, options=RULES).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("language", ["English", "简体中文"])
def test_the_owners_pages_have_no_serious_accessibility_violation(
    server, page, owner, conn, language
):
    open_shops(conn)
    car = make_car_with_history(conn, owner, vin="WLAXE000000000001")
    order = proposed_order(conn, owner, vin="WLAXE000000000002")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/app/signin")
    assert not violations(page), "sign-in"
    sign_in(page, server, owner.email)
    if language != "English":
        page.get_by_role("button", name=language).click()
        page.wait_for_load_state()
    found = {}
    for path in (
        "/app/cars",
        f"/app/cars/{car}",
        "/app/orders",
        f"/app/orders/{order}",
        "/app/settings",
        "/app/cars/add",
    ):
        page.goto(f"{server}{path}")
        page.wait_for_load_state()
        problems = violations(page)
        if problems:
            found[path] = problems
    assert not found, found
