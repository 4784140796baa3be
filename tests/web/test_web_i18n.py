# SPDX-License-Identifier: MIT
"""Languages: every message of the templates is translated, and the language comes from the
user's choice, the language cookie or the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract
from test_web_sessions import csrf_of, sign_in

from web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"


def template_messages() -> set[str]:
    """Every message the templates translate."""
    found = set()
    for path in [*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt")]:
        with path.open("rb") as f:
            for _, _, message, _ in babel_extract(f, ("_", "gettext", "ngettext"), [], {}):
                found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_template_message_has_a_chinese_translation():
    po = i18n.LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    assert template_messages() - translated == set()
    for message in catalog:
        if message.id:  # placeholders survive translation
            assert message.id.count("%(") == message.string.count("%(")


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_Hans"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,zh;q=0.5", "zh_Hans"),
        ("fr-FR", "en"),
        ("en;q=0.2,zh-Hans;q=0.8", "zh_Hans"),
        ("zh;q=0", "en"),
        ("", "en"),
    ],
)
def test_the_browsers_language(header, chosen):
    assert i18n.choose(user_choice=None, cookie=None, accept_language=header) == chosen


def test_the_users_choice_beats_the_cookie_and_the_browser():
    assert i18n.choose(user_choice="en", cookie="zh_Hans", accept_language="zh") == "en"
    assert i18n.choose(user_choice=None, cookie="zh_Hans", accept_language="en") == "zh_Hans"
    assert i18n.choose(user_choice=None, cookie="xx", accept_language="en") == "en"


def test_a_chinese_browser_gets_chinese_pages(client):
    page = client.get("/app/signin", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans">' in page.text and "使用密码" in page.text


def test_the_switch_sets_the_cookie_and_the_users_language(client, owner, conn):
    sign_in(client, owner.email)
    page = client.get("/app/cars")
    switched = client.post(
        "/app/preferences",
        data={"language": "zh_Hans", "back": "/app/cars", "csrf_token": csrf_of(page.text)},
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/app/cars"
    cookie = next(c for c in switched.headers.get_list("set-cookie") if c.startswith("wl_lang="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert conn.execute(
        "SELECT language FROM users WHERE user_id = %s", (owner.user_id,)
    ).fetchone() == ("zh_Hans",)
    page = client.get("/app/cars", headers={"Accept-Language": "en"})
    assert "我的车辆" in page.text
