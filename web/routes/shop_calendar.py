# SPDX-License-Identifier: MIT
"""The shop's calendar: the week by bay, and moving a booking to another free slot.

Shop staff only (anyone else the inbox's plain 403 page); a booking that is not the caller's
shop's is the API's 404. Moving is a form (POST with the session's form token) of the slots
the booking may take, so it works without JavaScript; ``static/calendar.js`` lets a booking be
dragged onto a free slot and posts that same form. Done, the calendar opens on the new slot's
week saying so (``?done=moved``); refused, the move page says why in plain words (409).
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import groupby
from typing import Annotated
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from db.rows import scalar
from web import calendar as gather
from web import i18n
from web import orders as order_pages
from web.deps import ConnDep, UserDep, clock
from web.pages import Pages
from web.routes.shop import application_page
from web.sessions import WebUser
from web.shop import is_shop_staff, move

router = APIRouter()
BIGINT_MAX = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
WeekQuery = Annotated[str | None, Query(max_length=10)]


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def _forbidden(request: Request) -> Response:
    return _pages(request).render(request, "shop_forbidden.html", status=403)


@router.get("/shop/calendar")
def calendar(request: Request, conn: ConnDep, user: UserDep, week: WeekQuery = None) -> Response:
    """The week by bay: bookings, free slots, opening hours; the previous and next week."""
    if not is_shop_staff(user.principal):
        return _forbidden(request)
    if (waiting := application_page(request, conn, user)) is not None:
        return waiting
    locale = i18n.babel_locale(_pages(request).language(request, user))
    shown = gather.week(
        conn=conn, principal=user.principal, now=clock(), monday=gather.parse_week(week)
    )
    done = request.query_params.get("done")
    return _pages(request).render(
        request,
        "shop_calendar.html",
        week=shown,
        done=done if done == "moved" else None,
        day_name=lambda d: format_skeleton("EEEEd", d, locale=locale),
        short_day=lambda d: format_skeleton("MMMd", d, locale=locale),
        hhmm=lambda t: t.strftime("%H:%M"),
    )


def _move_page(
    request: Request,
    conn: ConnDep,
    user: WebUser,
    order_id: int,
    *,
    status: int = 200,
    refusal: order_pages.Refusal | None = None,
) -> Response:
    try:
        found = gather.movable(conn=conn, principal=user.principal, order_id=order_id, now=clock())
    except gather.NotMovable:
        return _pages(request).render(request, "shop_missing.html", status=404, order_id=order_id)
    locale = i18n.babel_locale(_pages(request).language(request, user))
    zone = ZoneInfo(found.timezone)
    return _pages(request).render(
        request,
        "shop_move.html",
        status=status,
        move=found,
        refusal=refusal,
        local_time=lambda when: order_pages.local_time(when, found.timezone, locale),
        week_of=lambda when: gather.monday_of(when.astimezone(zone).date()).isoformat(),
        clock_time=lambda when: when.astimezone(zone).strftime("%H:%M"),
        by_day=lambda slots: [
            (format_skeleton("MMMMEEEEd", day, locale=locale), list(group))
            for day, group in groupby(slots, key=lambda s: s.starts_at.astimezone(zone).date())
        ],
    )


@router.get("/shop/calendar/orders/{order_id}/move")
def move_form(request: Request, conn: ConnDep, user: UserDep, order_id: Id) -> Response:
    """The booking and the free slots it may move to, one to pick."""
    if not is_shop_staff(user.principal):
        return _forbidden(request)
    return _move_page(request, conn, user, order_id)


@router.post("/shop/calendar/orders/{order_id}/move")
def move_booking(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: Id,
    slot_id: Annotated[int, Form(ge=1, le=BIGINT_MAX)],
) -> Response:
    """Move the booking to the picked free slot (``placement.reschedule``; the owner is told)."""
    if not is_shop_staff(user.principal):
        return _forbidden(request)
    try:
        found = gather.movable(conn=conn, principal=user.principal, order_id=order_id, now=clock())
    except gather.NotMovable:
        return _pages(request).render(request, "shop_missing.html", status=404, order_id=order_id)
    try:
        move(conn=conn, principal=user.principal, order_id=order_id, slot_id=slot_id, now=clock())
    except order_pages.Refusal as refusal:
        status = 403 if refusal.why == "not_allowed" else 409
        return _move_page(request, conn, user, order_id, status=status, refusal=refusal)
    starts = scalar(
        conn, "SELECT appointment_starts_at FROM service_orders WHERE order_id = %s", (order_id,)
    )
    assert isinstance(starts, datetime)
    week: date = gather.monday_of(starts.astimezone(ZoneInfo(found.timezone)).date())
    root = str(request.scope.get("root_path", ""))
    return RedirectResponse(
        f"{root}/shop/calendar?week={week.isoformat()}&done=moved#order-{order_id}",
        status_code=303,
    )
