# SPDX-License-Identifier: MIT
"""Dependencies of the pages: a pooled connection, the session's user, the CSRF check.

The pool, the rate limiter and the token settings are the API application's (``api``), which
the web app is mounted in: one pool and one login budget per process.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Annotated

import psycopg
from fastapi import Depends, FastAPI, Request

from web import sessions
from web.sessions import WebUser

SESSION_COOKIE = "wl_session"
# Before sign-in there is no session to hold the form token, so the sign-in forms are checked
# against this cookie instead (a forged cross-site form cannot read or set it).
ANON_CSRF_COOKIE = "wl_csrf"
LANGUAGE_COOKIE = "wl_lang"
CSRF_FIELD = "csrf_token"
# One-click unsubscribe (RFC 8058): the reader's mail provider POSTs to the link in the mail's
# List-Unsubscribe header, with no cookie and no form token. The link's own unguessable token
# is the proof, and all such a POST can do is turn one kind of message off.
CSRF_EXEMPT_PREFIXES = ("/unsubscribe/",)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SignInRequired(Exception):
    """The page needs a signed-in user; the app answers with the sign-in page."""


class CsrfRefused(Exception):
    """An unsafe request without this session's form token; the app answers 403."""


def clock() -> datetime:
    """The one clock of a web request: sessions and links are written and checked by it."""
    return datetime.now(UTC)


def api_app(request: Request) -> FastAPI:
    """The API application the web app is mounted in."""
    parent: FastAPI = request.app.state.api
    return parent


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection of the API's pool while the page is built."""
    with api_app(request).state.pool.connection() as conn:
        yield conn


ConnDep = Annotated[psycopg.Connection, Depends(get_conn, scope="function")]


def optional_user(request: Request, conn: ConnDep) -> WebUser | None:
    """The signed-in user of this request, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    user = None if not token else sessions.find(conn=conn, token=token, now=clock())
    request.state.user = user
    if user is not None:  # who acted, for the API's audit log of writes
        request.state.principal = user.principal
    return user


OptionalUserDep = Annotated[WebUser | None, Depends(optional_user)]


def signed_in(user: OptionalUserDep) -> WebUser:
    """The signed-in user; SignInRequired when there is none."""
    if user is None:
        raise SignInRequired
    return user


UserDep = Annotated[WebUser, Depends(signed_in)]


def expected_csrf(request: Request, user: WebUser | None) -> str | None:
    """The form token this request's forms carry: the session's, or the anonymous cookie's."""
    return user.csrf_token if user is not None else request.cookies.get(ANON_CSRF_COOKIE)


async def csrf_protect(request: Request, user: OptionalUserDep) -> AsyncIterator[None]:
    """Every unsafe request carries the form token of its session (CsrfRefused otherwise).

    Hand-written: the CSRF packages for Starlette check a header sent by JavaScript or keep
    their own signed cookie, while forms here work without JavaScript and the token belongs
    in the server-side session, where "sign out everywhere" ends it too.
    """
    if request.method not in UNSAFE:
        yield
        return
    path = request.url.path.removeprefix(str(request.scope.get("root_path", "")))
    if path.startswith(CSRF_EXEMPT_PREFIXES):
        yield
        return
    form = await request.form()
    try:
        sent = form.get(CSRF_FIELD)
        expected = expected_csrf(request, user)
        if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
            raise CsrfRefused
        yield
    finally:
        # An upload's spooled files go when the request is done, whoever refused it (this
        # check, the sign-in a later dependency asks for, the route), not when collected.
        await form.close()
