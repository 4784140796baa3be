# SPDX-License-Identifier: MIT
"""The shop's inbox: offers to answer within their time, bookings whose time may move.

Shop staff only: anyone else gets a plain 403 page, as the API's shop routes refuse them.
Each answer is a form (POST, with the session's form token) answered by a redirect back to
the inbox with what was done (``?done=``), or by the inbox saying in plain words why nothing
was done (``web.orders.Refusal``: 409, 403 for a step the role may not take); an order or
offer that is not the shop's is the API's 404. New offers appear live: the inbox's ``live``
block is fetched again on each event of ``/shop/events``, the API's event hub filtered for the
user (``api.access.events``: an order's events while the shop may see the order), with the
order page's script (``static/orders.js``); without JavaScript, reloading shows them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sse_starlette import EventSourceResponse

from api.audit.log import Note
from api.shops import onboarding
from api.streams import EventHub, Subscriber, TooManyStreams, outbox_head
from web import i18n, shop_application
from web import orders as order_pages
from web import shop as gather
from web.deps import ConnDep, UserDep, api_app, clock
from web.pages import Pages
from web.routes.orders import PING_S, STREAM_S, WAIT_S
from web.sessions import WebUser

router = APIRouter()
BIGINT_MAX = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
DONE = ("accepted", "declined", "booked", "moved")
# An offer to this shop (revision 0021) is news even when the order's status stays "offered"
# (the next shop of a sequential cascade); so is a fleet's decision on an order (revision 0025).
EVENTS = frozenset({"order.status_changed", "offer.made", "order.approval_decided"})


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _forbidden(request: Request) -> Response:
    return _pages(request).render(request, "shop_forbidden.html", status=403)


def application_page(request: Request, conn: ConnDep, user: WebUser) -> Response | None:
    """Where the shop's application stands, for the staff of a shop not verified yet (instead
    of its empty inbox, calendar or figures); None for a verified shop."""
    assert user.principal.shop_id is not None
    found = shop_application.standing(conn=conn, shop_id=user.principal.shop_id)
    if found is None:
        return None
    done = request.query_params.get("done")
    return _pages(request).render(
        request, "shop_application.html", standing=found, done=done if done == "again" else None
    )


@router.post("/shop/application/again")
def ask_again(request: Request, conn: ConnDep, user: UserDep) -> Response:
    """A rejected shop's staff ask for another look: the application waits for an admin
    again (``api.shops.onboarding.ask_again``); for a shop not rejected, nothing changes."""
    if not gather.is_shop_staff(user.principal):
        return _forbidden(request)
    assert user.principal.shop_id is not None
    if onboarding.ask_again(conn=conn, shop_id=user.principal.shop_id):
        shop_id = user.principal.shop_id
        request.state.audit = Note("shop", str(shop_id), f"shop {shop_id} asked for another look")
        return RedirectResponse(f"{_root(request)}/shop?done=again", status_code=303)
    return RedirectResponse(f"{_root(request)}/shop", status_code=303)


def _inbox(
    request: Request,
    conn: ConnDep,
    user: WebUser,
    *,
    status: int = 200,
    refusal: order_pages.Refusal | None = None,
    block: str | None = None,
) -> Response:
    locale = i18n.babel_locale(_pages(request).language(request, user))
    now = clock()
    box = gather.inbox(conn=conn, principal=user.principal, now=now)
    done = request.query_params.get("done")
    return _pages(request).render(
        request,
        "shop_inbox.html",
        status=status,
        block=block,
        inbox=box,
        done=done if done in DONE else None,
        refusal=refusal,
        events_after=outbox_head(conn),
        money=lambda amount, currency: order_pages.money(amount, currency, locale),
        local_time=lambda when: order_pages.local_time(when, box.timezone, locale),
        now=now,
    )


@router.get("/shop")
def shop_inbox(request: Request, conn: ConnDep, user: UserDep) -> Response:
    """The inbox; ``HX-Request``: its live block alone."""
    if not gather.is_shop_staff(user.principal):
        return _forbidden(request)
    if (waiting := application_page(request, conn, user)) is not None:
        return waiting
    block = "live" if request.headers.get("hx-request") == "true" else None
    return _inbox(request, conn, user, block=block)


def _after(
    request: Request,
    conn: ConnDep,
    user: WebUser,
    order_id: int,
    step: Callable[[], Any],
) -> Response:
    """Take ``step`` on an order of the inbox: back to it with what was done, or the inbox
    saying why nothing was."""
    if not gather.is_shop_staff(user.principal):
        return _forbidden(request)
    if not order_pages.is_visible(conn, user.principal, order_id):
        return _pages(request).render(request, "shop_missing.html", status=404, order_id=order_id)
    try:
        done = step()
    except gather.NotInInbox:
        return _pages(request).render(request, "shop_missing.html", status=404, order_id=order_id)
    except order_pages.Refusal as refusal:
        status = 403 if refusal.why == "not_allowed" else 409
        return _inbox(request, conn, user, status=status, refusal=refusal)
    root = str(request.scope.get("root_path", ""))
    return RedirectResponse(f"{root}/shop?done={done}#order-{order_id}", status_code=303)


@router.post("/shop/orders/{order_id}/offers/{offer_id}/accept")
def accept_offer(
    request: Request, conn: ConnDep, user: UserDep, order_id: Id, offer_id: Id
) -> Response:
    """Accept the offer: the first shop to accept wins the order."""

    def step() -> str:
        gather.answer(
            conn=conn,
            principal=user.principal,
            order_id=order_id,
            offer_id=offer_id,
            accept=True,
            now=clock(),
        )
        return "accepted"

    return _after(request, conn, user, order_id, step)


@router.post("/shop/orders/{order_id}/offers/{offer_id}/decline")
def decline_offer(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: Id,
    offer_id: Id,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Decline the offer, saying why; it goes to the next shop."""

    def step() -> str:
        gather.answer(
            conn=conn,
            principal=user.principal,
            order_id=order_id,
            offer_id=offer_id,
            accept=False,
            now=clock(),
            reason=reason.strip(),
        )
        return "declined"

    return _after(request, conn, user, order_id, step)


@router.post("/shop/orders/{order_id}/slot")
def propose_slot(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: Id,
    slot_id: Annotated[int, Form(ge=1, le=BIGINT_MAX)],
) -> Response:
    """Book another free slot for a won order, or move its visit there (the owner is told)."""
    return _after(
        request,
        conn,
        user,
        order_id,
        lambda: gather.move(
            conn=conn, principal=user.principal, order_id=order_id, slot_id=slot_id, now=clock()
        ),
    )


@router.get("/shop/events")
async def shop_events(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    after: Annotated[int | None, Query(ge=0, le=BIGINT_MAX)] = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=BIGINT_MAX)] = None,
) -> Response:
    """The shop's orders' status changes as server-sent events (``status``): the API's hub
    delivers only what ``api.access.events`` lets the user see (a new offer to this shop is
    one). From event ``after`` or ``Last-Event-ID``; 403 for anyone but shop staff, 429 past
    the user's streams."""
    if not gather.is_shop_staff(user.principal):
        return Response(status_code=403)
    hub: EventHub = api_app(request).state.event_hub
    sub = Subscriber(
        principal=user.principal,
        loop=asyncio.get_running_loop(),
        after=last_event_id if last_event_id is not None else after,
        types=EVENTS,
    )
    try:
        hub.subscribe(sub)
    except TooManyStreams:
        return Response(status_code=429, headers={"Retry-After": "5"})
    return EventSourceResponse(_stream(hub, sub), ping=PING_S)


async def _stream(hub: EventHub, sub: Subscriber) -> AsyncIterator[dict[str, str]]:
    """The events of ``sub``, until the hub ends it or ``STREAM_S`` passed."""
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
            yield {"id": str(event_id), "event": "status", "data": str(data.get("status"))}
    finally:
        hub.unsubscribe(sub)
