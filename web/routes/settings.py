# SPDX-License-Identifier: MIT
"""Settings: where notifications go (the account's email, Apprise URLs, each with a test
button), which kinds go to which channel, quiet hours in the user's time zone, the delivery
log; and the language and units switches (posting to ``/preferences``, which owns them).

Plain forms, each a POST answered by a redirect back (or the page with what went wrong), so
everything works without JavaScript; the app-wide form-token check covers each one.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from api.problems import ProblemError
from web import i18n
from web.deps import ConnDep, UserDep, api_app, clock
from web.notify import channels, dispatch
from web.notify.channels import ChannelError
from web.notify.events import kinds_for
from web.routes.auth import config, pages

router = APIRouter()
DONE = frozenset({"added", "removed", "routes", "quiet", "sent"})


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def notify_config(request: Request) -> dispatch.NotifyConfig:
    """The dispatcher's configuration for a test message sent from this app."""
    web = config(request)
    return dispatch.NotifyConfig(
        smtp_url=web.smtp_url,
        base_url=web.base_url or "",
        mail_from=web.mail_from,
        network=api_app(request).state.webhooks,
    )


def _page(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    *,
    status: int = 200,
    error: ChannelError | None = None,
    failed: str | None = None,
    form_url: str = "",
    form_label: str = "",
) -> Response:
    user_id = user.principal.user_id
    done = request.query_params.get("done")
    return pages(request).render(
        request,
        "settings.html",
        status=status,
        channels=channels.of_user(conn, user_id),
        event_kinds=kinds_for(user.principal.role),
        quiet=channels.quiet_hours(conn, user_id),
        log=dispatch.log_of(conn, user_id=user_id),
        done=done if done in DONE else None,
        error=error,
        failed=failed,
        form_url=form_url,
        form_label=form_label,
        mail_enabled=config(request).smtp_url is not None,
        language_names=i18n.LANGUAGES,
    )


def _back(request: Request, done: str) -> Response:
    return RedirectResponse(f"{_root(request)}/settings?done={done}", status_code=303)


@router.get("/settings")
def settings_page(request: Request, conn: ConnDep, user: UserDep) -> Response:
    """The notification settings."""
    return _page(request, conn, user)


@router.post("/settings/channels")
def add_channel(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    url: Annotated[str, Form(max_length=channels.MAX_URL_LENGTH)],
    label: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """Add an Apprise URL, refused in plain words when it goes somewhere it may not."""
    try:
        channels.add_apprise(
            conn,
            user_id=user.principal.user_id,
            url=url,
            label=label,
            config=api_app(request).state.webhooks,
        )
    except ChannelError as exc:
        return _page(request, conn, user, status=400, error=exc, form_url=url, form_label=label)
    return _back(request, "added")


@router.post("/settings/channels/{channel_id}/remove")
def remove_channel(request: Request, conn: ConnDep, user: UserDep, channel_id: int) -> Response:
    """Remove one of the user's Apprise channels; any other channel is not there (404)."""
    if not channels.remove(conn, user_id=user.principal.user_id, channel_id=channel_id):
        raise HTTPException(404)
    return _back(request, "removed")


@router.post("/settings/channels/{channel_id}/test")
def test_channel(request: Request, conn: ConnDep, user: UserDep, channel_id: int) -> Response:
    """Send a test message to one channel now, within the login budget per user (a button
    pressed in a loop must not flood a service, nor a person's inbox); another's channel is
    not there (404)."""
    if channels.find(conn, user_id=user.principal.user_id, channel_id=channel_id) is None:
        raise HTTPException(404)
    limiter = api_app(request).state.limiter
    try:
        limiter.hit(limiter.logins_per_client, "notify-test", str(user.principal.user_id))
    except ProblemError:
        return _page(
            request, conn, user, status=429, failed="too many test messages; wait a minute"
        )
    error = dispatch.send_test(
        conn,
        pages(request),
        notify_config(request),
        user_id=user.principal.user_id,
        channel_id=channel_id,
        now=clock(),
    )
    if error is not None:
        return _page(request, conn, user, status=502, failed=error)
    return _back(request, "sent")


@router.post("/settings/routes")
def set_routes(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    route: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Which kinds go to which channel: exactly the boxes ticked."""
    kinds = kinds_for(user.principal.role)
    enabled = set()
    for value in route or []:
        channel, _, kind = value.partition(":")
        if channel.isdigit() and kind in kinds:
            enabled.add((int(channel), kind))
    channels.set_routes(conn, user_id=user.principal.user_id, enabled=enabled, kinds=kinds)
    return _back(request, "routes")


def _time(text: str) -> time | None:
    return time.fromisoformat(text) if text else None


@router.post("/settings/quiet")
def set_quiet(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    time_zone: Annotated[str, Form(max_length=64)] = "UTC",
    quiet_from: Annotated[str, Form(max_length=8)] = "",
    quiet_until: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The time zone and quiet hours (both empty: none)."""
    try:
        start, end = _time(quiet_from.strip()), _time(quiet_until.strip())
    except ValueError:
        error = ChannelError("quiet_time", "not a time of day")
        return _page(request, conn, user, status=400, error=error)
    try:
        channels.set_quiet_hours(
            conn,
            user_id=user.principal.user_id,
            time_zone=time_zone.strip() or "UTC",
            start=start,
            end=end,
        )
    except ChannelError as exc:
        return _page(request, conn, user, status=400, error=exc)
    return _back(request, "quiet")
