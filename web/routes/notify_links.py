# SPDX-License-Identifier: MIT
"""The links in notification mail: one tap to the order or the car, one click to unsubscribe.

Opening either link (GET) changes nothing: mail scanners fetch links. The open link's button
spends it once and signs the person in; the unsubscribe button, or the mail provider's
one-click POST (RFC 8058, exempt from the form token: see ``web.deps``), turns that kind of
message off for mail. Either page says in plain words when a link no longer works.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from web import sessions
from web.deps import ConnDep, clock
from web.notify import links
from web.routes.auth import config, pages, signed_in_response

router = APIRouter()
Token = Annotated[str, Path(max_length=128)]


@router.get("/n/{token}")
def open_page(request: Request, token: Token) -> Response:
    """A one-tap link from a mail: a button that uses it."""
    return pages(request).render(request, "notify/open.html", token=token)


@router.post("/n/{token}")
def open_link(request: Request, conn: ConnDep, token: Token) -> Response:
    """Spend the link (once, before it expires): sign in and go to its page."""
    now = clock()
    found = links.redeem_open(conn, token=token, now=now)
    if found is None:
        return pages(request).render(request, "link_spent.html", status=410)
    user_id, target = found
    session, expires_at = sessions.start(
        conn=conn, user_id=user_id, now=now, ttl=config(request).session_ttl
    )
    response = signed_in_response(request, session, expires_at)
    response.headers["location"] = f"{request.scope.get('root_path', '')}{target}"
    return response


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, conn: ConnDep, token: Token) -> Response:
    """What the unsubscribe link would turn off, and a button to do it."""
    kind = links.peek_unsubscribe(conn, token=token, now=clock())
    status = 200 if kind is not None else 410
    return pages(request).render(
        request, "notify/unsubscribe.html", status=status, token=token, kind=kind, done=False
    )


@router.post("/unsubscribe/{token}")
def unsubscribe(request: Request, conn: ConnDep, token: Token) -> Response:
    """Turn the link's kind of message off for mail (again changes nothing)."""
    done = links.unsubscribe(conn, token=token, now=clock())
    return pages(request).render(
        request,
        "notify/unsubscribe.html",
        status=200 if done else 410,
        token=token,
        kind=None if done is None else done.event_kind,
        done=done is not None,
    )
