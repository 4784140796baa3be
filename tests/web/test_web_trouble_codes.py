# SPDX-License-Identifier: MIT
"""Trouble codes in plain words: every rule that classifies codes has a headline and every
urgency an action, both translated; the cards say them, with the code and the catalogue's
English description as the detail."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po
from test_web_cars import card_of
from test_web_sessions import sign_in
from web_helpers import make_car

from predictive.publish import trouble_code_alerts
from predictive.trouble_codes import RULES, Urgency, describe
from web import i18n, trouble


def chinese() -> dict[str, str]:
    """The Chinese catalogue: message → translation (translated ones only)."""
    po = i18n.LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and m.string}


def test_every_rule_has_a_headline_in_english_and_chinese():
    translated = chinese()
    names = {rule.name for rule in RULES}
    assert names - set(trouble.HEADLINES) == set(), "a rule without a headline in web/trouble.py"
    assert set(trouble.HEADLINES) - names == set(), "a headline of a rule that is gone"
    for headline in [*trouble.HEADLINES.values(), trouble.UNKNOWN_HEADLINE]:
        assert headline in translated, f"no Chinese for {headline!r}"


def test_every_urgency_has_an_action_in_english_and_chinese():
    translated = chinese()
    assert set(trouble.ACTIONS) == {str(u) for u in Urgency}
    for action in trouble.ACTIONS.values():
        assert action in translated, f"no Chinese for {action!r}"


def test_headlines_are_said_in_the_pages_language():
    line = trouble.CodeLine("P0301", describe("P0301"), "critical", False, "misfire")
    catalogues = i18n.load_catalogues()
    i18n.activate(catalogues["zh_Hans"])
    assert (line.headline(), line.action()) == ("发动机缺火", "请今天就去检查")
    i18n.activate(catalogues["en"])
    assert (line.headline(), line.action()) == ("Engine misfire", "have it checked today")


def coded_car(conn, owner) -> int:
    """A car whose open trouble codes are raised as the evaluator raises them: P0301 stored,
    P0128 pending."""
    vehicle_id = make_car(conn, owner, vin="WLCDS000000000001")
    conn.execute(
        "DELETE FROM alerts WHERE vehicle_id = %s AND kind = 'trouble_code'", (vehicle_id,)
    )
    trouble_code_alerts(
        conn, vehicle_id=vehicle_id, stored=["P0301"], pending=["P0128"], permanent=[]
    )
    return vehicle_id


def items(card: str) -> list[str]:
    """The trouble codes of a card as text, tags dropped, spaces collapsed."""
    codes = re.search(r'<ul class="codes">(.*?)</ul>', card, re.S)
    assert codes is not None
    found = re.findall(r"<li[^>]*>(.*?)</li>", codes.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", f).split()) for f in found]


def test_the_card_says_each_code_by_its_rule_and_urgency(client, owner, conn):
    vehicle_id = coded_car(conn, owner)
    sign_in(client, owner.email)
    card = card_of(client.get("/app/cars").text, vehicle_id)
    assert items(card) == [
        f"Engine misfire: have it checked today (critical) P0301 · {describe('P0301')}",
        "Engine warms up too slowly (thermostat): have it looked at at the next service "
        f"(low urgency) not confirmed yet P0128 · {describe('P0128')}",
    ]
    assert 'lang="en"' not in card  # the page is English already
    # One car's page shows the same card.
    page = client.get(f"/app/cars/{vehicle_id}").text
    assert "Engine misfire: have it checked today" in page


def test_in_chinese_the_catalogues_english_is_marked_as_such(client, owner, conn):
    vehicle_id = coded_car(conn, owner)
    sign_in(client, owner.email)
    page = client.get("/app/cars", headers={"Accept-Language": "zh-CN"}).text
    card = card_of(page, vehicle_id)
    assert "发动机缺火：请今天就去检查" in card
    assert "发动机升温过慢（节温器）：下次保养时检查即可" in card
    assert f'P0301 · <span lang="en">{describe("P0301")}</span>' in card
