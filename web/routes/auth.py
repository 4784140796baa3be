# SPDX-License-Identifier: MIT
"""Signing in (password, or a one-time link by email) and out (here, or everywhere)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth.users import authenticate
from api.problems import ProblemError
from web import links, mail, sessions
from web.config import WebConfig
from web.deps import (
    ANON_CSRF_COOKIE,
    SESSION_COOKIE,
    ConnDep,
    OptionalUserDep,
    UserDep,
    api_app,
    clock,
)
from web.pages import Pages

log = logging.getLogger(__name__)
router = APIRouter()
# Each sign-in removes at most this many finished sessions and links (``wrenchlight admin
# prune-sessions`` removes them all): a small batch, so a sign-in never waits on the cleaning.
PRUNE_AT_SIGNIN = 100
EmailForm = Annotated[str, Form(max_length=320)]


def pages(request: Request) -> Pages:
    """The app's templates."""
    found: Pages = request.app.state.pages
    return found


def config(request: Request) -> WebConfig:
    """The app's configuration."""
    found: WebConfig = request.app.state.config
    return found


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def signed_in_response(request: Request, token: str, expires_at: datetime) -> Response:
    """To the user's home page (``/``: by role), with the new session's cookie."""
    response = RedirectResponse(f"{_root(request)}/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=expires_at,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=_root(request) or "/",
    )
    # The anonymous form token has done its job; the session carries its own from now on.
    response.delete_cookie(ANON_CSRF_COOKIE, path=_root(request) or "/")
    return response


def signed_out_response(request: Request) -> Response:
    """To the sign-in page, without the session cookie."""
    response = RedirectResponse(f"{_root(request)}/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=_root(request) or "/")
    return response


def _tidy(conn: psycopg.Connection, now: datetime) -> None:
    """Remove a bounded batch of finished sessions and links; a failure is logged, and the
    sign-in goes on (its own savepoint keeps the sign-in's transaction whole)."""
    try:
        with conn.transaction():
            sessions.prune(conn=conn, now=now, limit=PRUNE_AT_SIGNIN)
            links.prune(conn=conn, now=now, limit=PRUNE_AT_SIGNIN)
    except psycopg.Error:
        log.warning("pruning finished sessions at sign-in failed", exc_info=True)


def rate_limited(request: Request, scope: str, address: str | None = None) -> Response | None:
    """The 429 page when this client (or, with ``address``, anyone for that address) tried too
    often, on the API's login budget; else None."""
    limiter = api_app(request).state.limiter
    try:
        limiter.hit(limiter.logins_per_client, scope, _client(request))
        if address is not None:
            # Counted for every address alike, known or not, so a 429 tells nothing either.
            limiter.hit(limiter.logins_per_client, f"{scope}-to", address.strip().lower())
    except ProblemError as exc:
        response = pages(request).render(request, "too_many.html", status=429)
        response.headers.update(exc.headers or {})
        return response
    return None


@router.get("/signin")
def signin_page(request: Request, user: OptionalUserDep) -> Response:
    """The sign-in page (to the cars when already signed in)."""
    if user is not None:
        return RedirectResponse(f"{_root(request)}/cars", status_code=303)
    return pages(request).render(request, "signin.html", link_enabled=config(request).links_enabled)


@router.post("/signin")
def signin(
    request: Request,
    conn: ConnDep,
    email: EmailForm,
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Sign in with email and password; counted against the client's login budget."""
    if (refused := rate_limited(request, "login")) is not None:
        return refused
    user_id = authenticate(conn=conn, email=email, password=password)
    if user_id is None:
        return pages(request).render(
            request,
            "signin.html",
            status=401,
            error="wrong_password",
            email=email,
            link_enabled=config(request).links_enabled,
        )
    now = clock()
    _tidy(conn, now)
    token, expires_at = sessions.start(
        conn=conn, user_id=user_id, now=now, ttl=config(request).session_ttl
    )
    return signed_in_response(request, token, expires_at)


def _link_url(request: Request, token: str) -> str:
    base = config(request).base_url
    assert base is not None  # links_enabled
    return f"{base.rstrip('/')}{_root(request)}/signin/link?token={token}"


def _send_link(cfg: WebConfig, to: str, subject: str, text: str) -> None:
    """Mail a sign-in link; a failure is logged, never shown (it would tell who has an account)."""
    assert cfg.smtp_url is not None
    try:
        mail.send(smtp_url=cfg.smtp_url, mail_from=cfg.mail_from, to=to, subject=subject, text=text)
    except mail.MailError:
        log.exception("sign-in link not sent")


@router.post("/signin/link")
def request_link(
    request: Request, conn: ConnDep, background: BackgroundTasks, email: EmailForm
) -> Response:
    """Mail a one-time sign-in link to ``email`` if it is a user's; the same answer either
    way, so the page tells nobody which addresses have accounts."""
    # Per address too: nobody fills a person's inbox with links from many networks.
    if (refused := rate_limited(request, "signin-link", email)) is not None:
        return refused
    cfg = config(request)
    if not cfg.links_enabled:
        return pages(request).render(request, "signin.html", status=404, link_enabled=False)
    issued = links.issue(conn=conn, email=email, now=clock(), ttl=cfg.link_ttl)
    if issued is not None:
        token, address = issued
        # In the language of the page the link was asked for from.
        subject, text = pages(request).mail(
            request,
            "mail_signin_link.txt",
            url=_link_url(request, token),
            minutes=int(cfg.link_ttl.total_seconds() // 60),
        )
        # After the response: a known address must not answer slower than an unknown one.
        background.add_task(_send_link, cfg, address, subject, text)
    return pages(request).render(
        request, "link_sent.html", minutes=int(cfg.link_ttl.total_seconds() // 60)
    )


@router.get("/signin/link")
def link_page(request: Request, token: str = "") -> Response:
    """A link from a mail: a button that uses it. Opening the page spends nothing, so a mail
    scanner that fetches links does not use up the person's link."""
    return pages(request).render(request, "link_confirm.html", token=token)


@router.post("/signin/link/use")
def use_link(
    request: Request, conn: ConnDep, token: Annotated[str, Form(max_length=128)]
) -> Response:
    """Sign in with a link's token: once, before it expires."""
    if (refused := rate_limited(request, "signin-link")) is not None:
        return refused
    now = clock()
    user_id = links.redeem(conn=conn, token=token, now=now)
    if user_id is None:
        return pages(request).render(request, "link_spent.html", status=410)
    _tidy(conn, now)
    session_token, expires_at = sessions.start(
        conn=conn, user_id=user_id, now=now, ttl=config(request).session_ttl
    )
    return signed_in_response(request, session_token, expires_at)


@router.post("/signout")
def signout(request: Request, conn: ConnDep, user: UserDep) -> Response:
    """Sign this browser out."""
    sessions.end(conn=conn, session_id=user.session_id)
    return signed_out_response(request)


@router.post("/signout/everywhere")
def signout_everywhere(request: Request, conn: ConnDep, user: UserDep) -> Response:
    """Sign out every browser the user is signed in on."""
    sessions.end_all(conn=conn, user_id=user.principal.user_id)
    return signed_out_response(request)
