# SPDX-License-Identifier: MIT
"""Adding a car in a real browser, by role and label: from My cars to the form, a mistyped
code said in words, the right one landing on the car's page; the trouble codes of a card in
plain words; screenshots of the form at phone width."""

from __future__ import annotations

from playwright.sync_api import expect
from test_web_browser import sign_in
from test_web_pairing import VIN, dongle_car
from test_web_trouble_codes import coded_car
from web_helpers import make_owner


def test_adding_a_car_with_its_dongles_code(page, server, conn, screenshot_dir):
    owner = make_owner(conn, email="maria.schmidt@example.test")
    _, code = dongle_car(conn)
    sign_in(page, server, owner.email)
    page.get_by_role("link", name="Add a car").click()
    expect(page.get_by_role("heading", name="Add a car", level=1)).to_be_visible()
    page.screenshot(path=screenshot_dir / "car-add-phone.png", full_page=True)
    page.get_by_label("The car's VIN or the dongle's id").fill(VIN)
    page.get_by_label("Pairing code").fill("00000-00000")
    page.get_by_role("button", name="Add the car").click()
    expect(page.get_by_role("alert")).to_contain_text("That code does not match")
    # What was typed for the car stays; the code is typed again.
    expect(page.get_by_label("The car's VIN or the dongle's id")).to_have_value(VIN)
    expect(page.get_by_label("Pairing code")).to_have_value("")
    page.screenshot(path=screenshot_dir / "car-add-wrong-code-phone.png", full_page=True)
    page.get_by_label("Pairing code").fill(code.lower())
    page.get_by_role("button", name="Add the car").click()
    expect(page.get_by_role("heading", name="Toyota Corolla", level=1)).to_be_visible()
    for name in ("car-add-phone", "car-add-wrong-code-phone"):
        assert (screenshot_dir / f"{name}.png").stat().st_size > 10_000


def test_a_cards_trouble_codes_in_plain_words(page, server, owner, conn, screenshot_dir):
    coded_car(conn, owner)
    sign_in(page, server, owner.email)
    codes = page.get_by_role("region", name="Trouble codes")
    expect(codes.get_by_role("listitem").first).to_contain_text(
        "Engine misfire: have it checked today (critical)"
    )
    codes.screenshot(path=screenshot_dir / "trouble-codes-phone.png")
    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("region", name="故障码")).to_contain_text("发动机缺火：请今天就去检查")
