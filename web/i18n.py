# SPDX-License-Identifier: MIT
"""Languages: gettext catalogues compiled from the ``.po`` files at startup (Babel), and the
choice of one per request: the user's setting, else the language cookie, else the browser's
Accept-Language, else English.

Compiling in memory keeps the repository free of built ``.mo`` files and the app free of a
build step; it takes milliseconds for catalogues of this size.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "en"
# The languages offered, with their names in themselves (as the switch shows them).
LANGUAGES: dict[str, str] = {"en": "English", "zh_Hans": "简体中文"}

_current: ContextVar[gettext.NullTranslations | None] = ContextVar("web_translations", default=None)
_UNTRANSLATED = gettext.NullTranslations()


def load_catalogues(locale_dir: Path = LOCALE_DIR) -> dict[str, gettext.NullTranslations]:
    """Each offered language's translations (English: the messages themselves)."""
    found: dict[str, gettext.NullTranslations] = {DEFAULT: gettext.NullTranslations()}
    for code in LANGUAGES:
        po = locale_dir / code / "LC_MESSAGES" / "messages.po"
        if code == DEFAULT or not po.exists():
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=code)
        mo = BytesIO()
        write_mo(mo, catalog)
        mo.seek(0)
        found[code] = gettext.GNUTranslations(mo)
    return found


def from_accept_language(header: str | None) -> str | None:
    """The offered language the browser prefers most, or None when it names none of them.

    Any Chinese maps to Simplified Chinese, the one Chinese catalogue there is.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary == "zh":
            return "zh_Hans"
        if primary == "en":
            return "en"
    return None


def choose(*, user_choice: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of this request."""
    for candidate in (user_choice, cookie):
        if candidate in LANGUAGES:
            return candidate
    return from_accept_language(accept_language) or DEFAULT


def babel_locale(code: str) -> Locale:
    """Babel's locale for dates and numbers in language ``code``."""
    return Locale.parse("zh_Hans_CN" if code == "zh_Hans" else "en_GB")


def activate(translations: gettext.NullTranslations) -> None:
    """Make ``translations`` those of the code that runs next in this context (a render)."""
    _current.set(translations)


def gettext_(message: str) -> str:
    """The message in the active language."""
    return (_current.get() or _UNTRANSLATED).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for ``n`` in the active language."""
    return (_current.get() or _UNTRANSLATED).ngettext(singular, plural, n)
