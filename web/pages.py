# SPDX-License-Identifier: MIT
"""Rendering a page: the Jinja2 environment, the request's language and units, the form
token, and the cookies a page sets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel import Locale
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from web import i18n, units
from web.deps import ANON_CSRF_COOKIE, LANGUAGE_COOKIE, expected_csrf
from web.sessions import WebUser
from web.tokens import new_token


@dataclass(frozen=True)
class Formatter:
    """Numbers, distances and dates in one request's language and units."""

    locale: Locale
    units: str

    def distance(self, km: float) -> str:
        """A distance in the user's units."""
        return units.distance(km, self.units, self.locale)

    def number(self, value: float, digits: int = 1) -> str:
        """A number in the locale's notation."""
        return units.number(value, self.locale, digits)

    def day(self, when: datetime) -> str:
        """A date."""
        return units.day(when, self.locale)

    def moment(self, when: datetime) -> str:
        """A date and time."""
        return units.moment(when, self.locale)


class Pages:
    """The templates and catalogues, loaded once when the app is built."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("web", "templates"),
            autoescape=select_autoescape(),
            extensions=["jinja2.ext.i18n"],
        )
        # The active catalogue is per request (a context variable), not per environment.
        self.env.install_gettext_callables(  # type: ignore[attr-defined]
            i18n.gettext_, i18n.ngettext_, newstyle=True
        )
        self.catalogues = i18n.load_catalogues()

    def language(self, request: Request, user: WebUser | None) -> str:
        """The language of this request."""
        return i18n.choose(
            user_choice=user.language if user else None,
            cookie=request.cookies.get(LANGUAGE_COOKIE),
            accept_language=request.headers.get("accept-language"),
        )

    def mail(self, request: Request, name: str, **context: Any) -> tuple[str, str]:
        """Subject and plain text of mail template ``name`` in this request's language; the
        subject is the template's ``subject`` block."""
        user: WebUser | None = getattr(request.state, "user", None)
        i18n.activate(self.catalogues[self.language(request, user)])
        template = self.env.get_template(name)
        subject = "".join(template.blocks["subject"](template.new_context(context))).strip()
        return subject, template.render(context)

    def render(
        self,
        request: Request,
        name: str,
        *,
        status: int = 200,
        block: str | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """Template ``name`` for this request, with the session's form token; only its block
        ``block`` when given (an htmx update: the fragment is the page's own block, so the two
        cannot disagree)."""
        user: WebUser | None = getattr(request.state, "user", None)
        language = self.language(request, user)
        i18n.activate(self.catalogues[language])
        csrf = expected_csrf(request, user)
        new_csrf = None
        if csrf is None:
            csrf = new_csrf = new_token()
        template = self.env.get_template(name)
        variables = dict(
            request=request,
            root=request.scope.get("root_path", ""),
            user=user,
            lang=language,
            html_lang="zh-Hans" if language == "zh_Hans" else "en",
            languages=i18n.LANGUAGES,
            csrf_token=csrf,
            fmt=Formatter(i18n.babel_locale(language), user.units if user else "metric"),
            **context,
        )
        if block is None:
            html = template.render(variables)
        else:
            html = "".join(template.blocks[block](template.new_context(variables)))
        response = HTMLResponse(html, status_code=status)
        # Pages show who is signed in and carry form tokens: no shared cache may keep them.
        response.headers["Cache-Control"] = "no-store"
        if new_csrf is not None:
            response.set_cookie(
                ANON_CSRF_COOKIE,
                new_csrf,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
                path=str(request.scope.get("root_path") or "/"),
            )
        return response
