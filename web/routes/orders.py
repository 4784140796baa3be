# SPDX-License-Identifier: MIT
"""Orders: the list, the proposed service with its steps, the visit's timeline (live), and
after the visit the report and the survey.

Every step is a form (POST, with the session's form token) answered by a redirect back to the
order with what was done (``?done=``), or by the order's page saying in plain words why
nothing was done (``web.orders.Refusal``: 409, or 403 for a step the user's role may not
take). The live timeline is the page's ``live`` block, fetched again on each event of the
order's stream (``/orders/{id}/events``), which is the API's event hub filtered for the user
as ``GET /events`` is, then for this order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sse_starlette import EventSourceResponse

from api.streams import EventHub, Subscriber, TooManyStreams, outbox_head
from web import i18n, reports
from web import orders as gather
from web.deps import ConnDep, UserDep, api_app, clock
from web.pages import Pages
from web.sessions import WebUser

router = APIRouter()
BIGINT_MAX = 2**63 - 1
OrderId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
SlotForm = Annotated[int | None, Form(ge=1, le=BIGINT_MAX)]
DONE = ("confirmed", "booked", "moved", "declined", "rated")
# A stream ends after this long and the browser opens it again (EventSource reconnects, with
# Last-Event-ID): each reconnection checks the session again, so a signed-out browser's
# stream does not outlive its session by more than this.
STREAM_S = 300.0
WAIT_S = 1.0
PING_S = 15
# A fleet's decision (revision 0025) changes what the order's page and the job card show.
ORDER_EVENTS = frozenset({"order.status_changed", "order.approval_decided"})


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _helpers(request: Request, user: WebUser) -> dict[str, Any]:
    """What the order templates format with: money and the shop's local time."""
    locale = i18n.babel_locale(_pages(request).language(request, user))
    return {
        "money": lambda amount, currency: gather.money(amount, currency, locale),
        "local_time": lambda when, zone: gather.local_time(when, zone, locale),
        "near": lambda km: gather.near(km, user.units, locale),
        "new_pad_mm": gather.NEW_PAD_MM,
        "min_pad_mm": gather.MIN_PAD_MM,
    }


def _order_page(
    request: Request,
    conn: ConnDep,
    user: WebUser,
    order_id: int,
    *,
    status: int = 200,
    refusal: gather.Refusal | None = None,
    block: str | None = None,
) -> Response:
    locale = i18n.babel_locale(_pages(request).language(request, user))
    view = gather.order_view(
        conn=conn, principal=user.principal, order_id=order_id, now=clock(), locale=locale
    )
    if view is None:
        return _pages(request).render(request, "order_missing.html", status=404, order_id=order_id)
    done = request.query_params.get("done")
    return _pages(request).render(
        request,
        "order.html",
        status=status,
        block=block,
        view=view,
        order=view.order,
        done=done if done in DONE else None,
        refusal=refusal,
        events_after=outbox_head(conn),
        proof=reports.proof_of(conn, reports.evidence(request), user.principal, order_id)
        if view.order.status == "completed"
        else None,
        **_helpers(request, user),
    )


@router.get("/orders")
def order_list(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The user's orders, newest first: those waiting for them, then the rest."""
    found, next_cursor = gather.my_orders(conn=conn, principal=user.principal, cursor=cursor)
    return _pages(request).render(
        request,
        "orders.html",
        orders=found,
        groups=gather.grouped(found),
        next_cursor=next_cursor,
        **_helpers(request, user),
    )


@router.get("/orders/{order_id}")
def order_page(request: Request, conn: ConnDep, user: UserDep, order_id: OrderId) -> Response:
    """The order: the proposal, the shop and its slots, the steps, the timeline, the report;
    an order that is not there or not the user's is the same 404. ``HX-Request``: the live
    block alone."""
    block = "live" if request.headers.get("hx-request") == "true" else None
    return _order_page(request, conn, user, order_id, block=block)


def _after(
    request: Request, conn: ConnDep, user: WebUser, order_id: int, done: str, step: Any
) -> Response:
    """Take ``step`` on a visible order: back to the order with what was done, or the order
    saying why nothing was."""
    if not gather.is_visible(conn, user.principal, order_id):
        return _pages(request).render(request, "order_missing.html", status=404, order_id=order_id)
    try:
        step()
    except gather.Refusal as refusal:
        status = 403 if refusal.why == "not_allowed" else 409
        return _order_page(request, conn, user, order_id, status=status, refusal=refusal)
    return RedirectResponse(f"{_root(request)}/orders/{order_id}?done={done}", status_code=303)


@router.post("/orders/{order_id}/confirm")
def confirm_order(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: OrderId,
    slot_id: SlotForm = None,
    shop_id: SlotForm = None,
) -> Response:
    """Confirm the proposal, with a slot when the shop is assigned at once, or at another
    proposed shop."""
    return _after(
        request,
        conn,
        user,
        order_id,
        "confirmed",
        lambda: gather.confirm(
            conn=conn,
            principal=user.principal,
            order_id=order_id,
            now=clock(),
            shop_id=shop_id,
            slot_id=slot_id,
        ),
    )


@router.post("/orders/{order_id}/book")
def book_slot(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: OrderId,
    slot_id: Annotated[int, Form(ge=1, le=BIGINT_MAX)],
    moving: Annotated[bool, Form()] = False,
) -> Response:
    """Book the picked slot, or move the booked visit to it."""
    return _after(
        request,
        conn,
        user,
        order_id,
        "moved" if moving else "booked",
        lambda: gather.book(
            conn=conn, principal=user.principal, order_id=order_id, now=clock(), slot_id=slot_id
        ),
    )


@router.post("/orders/{order_id}/decline")
def decline_order(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: OrderId,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Decline the proposal or cancel the visit, with the owner's reason."""
    return _after(
        request,
        conn,
        user,
        order_id,
        "declined",
        lambda: gather.decline(
            conn=conn,
            principal=user.principal,
            order_id=order_id,
            now=clock(),
            reason=reason.strip(),
        ),
    )


@router.post("/orders/{order_id}/survey")
def answer_survey(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: OrderId,
    score: Annotated[int, Form(ge=0, le=10)],
    comment: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The owner's 0-10 recommendation of the shop and a comment, once."""
    return _after(
        request,
        conn,
        user,
        order_id,
        "rated",
        lambda: gather.answer_survey(
            conn=conn,
            principal=user.principal,
            order_id=order_id,
            now=clock(),
            score=score,
            comment=comment.strip(),
        ),
    )


@router.get("/orders/{order_id}/events")
async def order_events(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: OrderId,
    after: Annotated[int | None, Query(ge=0, le=BIGINT_MAX)] = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=BIGINT_MAX)] = None,
) -> Response:
    """The order's status changes and its fleet's decisions as server-sent events (``status``,
    its status): the API's hub delivers only what ``api.access.events`` lets the user see, and
    this stream only this order's. It starts after event ``after`` (the newest when the page
    was made, so nothing between the page and the stream is missed) or ``Last-Event-ID`` on
    reconnection.
    404 for an order the user may not see; 429 past the user's streams."""
    if not gather.is_visible(conn, user.principal, order_id):
        return Response(status_code=404)
    hub: EventHub = api_app(request).state.event_hub
    sub = Subscriber(
        principal=user.principal,
        loop=asyncio.get_running_loop(),
        after=last_event_id if last_event_id is not None else after,
        types=ORDER_EVENTS,
    )
    try:
        hub.subscribe(sub)
    except TooManyStreams:
        return Response(status_code=429, headers={"Retry-After": "5"})
    return EventSourceResponse(_stream(hub, sub, order_id), ping=PING_S)


async def _stream(hub: EventHub, sub: Subscriber, order_id: int) -> AsyncIterator[dict[str, str]]:
    """This order's events of ``sub``, until the hub ends it or ``STREAM_S`` passed."""
    ends = time.monotonic() + STREAM_S
    try:
        while sub.ended is None and time.monotonic() < ends:
            try:
                item = await asyncio.wait_for(sub.queue.get(), timeout=WAIT_S)
            except TimeoutError:
                continue
            if item is None or sub.ended is not None:
                return
            event_id, _, body = item
            data = body.get("data") or {}
            if data.get("order_id") == order_id:
                yield {"id": str(event_id), "event": "status", "data": str(data.get("status"))}
    finally:
        hub.unsubscribe(sub)
