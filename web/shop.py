# SPDX-License-Identifier: MIT
"""What the shop's inbox shows and the answers it sends, with the API's own services.

The inbox is a shop's work waiting for an answer: the orders offered to it and not answered
yet, each with the time left to answer (the offer's ``expires_at``, ``orders.sla``'s
shop_response timer), and the bookings it won (accepted, waiting for a slot, or booked) whose
time it may move. An order is read as ``GET /service-orders/{id}`` gives it to shop staff
(``api.orders.service.detail`` with its ``shop_view``: never another shop's name, price or
offer); which orders are listed is ``GET /service-orders``'s (``api.access.orders``).

The answers are the functions the API's routes call, under the same role rules
(``api.orders.actions.may_take``): ``orders.offers.respond`` for accepting or declining an
offer, after the API's check that the offer went to the caller's shop (another shop's offer
is the same 404), and ``placement.schedule`` / ``reschedule`` for another slot. A refusal
is ``web.orders.Refusal`` in a word the page puts in plain words. The pre-diagnosis and the
estimate reuse the owner's order page's helpers (``web.orders``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from api.auth.principal import Principal
from api.orders import service
from api.orders.actions import may_take
from api.orders.schemas import OfferOut, OrderDetail
from api.shops.schemas import PriceOut
from api.shops.service import shop as shop_profile
from db.rows import scalar
from orders import offers, placement
from orders.errors import IllegalTransition, OfferClosed, OfferLost, OrderNotFound, OrdersError
from orders.policy import PlacementPolicy
from orders.slots import Slot
from predictive.trouble_codes import InvalidTroubleCode, rule_for
from web import orders as order_pages
from web import trouble
from web.orders import Evidence, Refusal

# Statuses of the inbox: offered (to answer), and won bookings whose time may still move.
OFFERED = "offered"
BOOKINGS = ("accepted", "scheduled")
PAGE = 100
SLOTS_SHOWN = 8


class NotInInbox(Exception):
    """An order or offer the caller's shop may not act on: the API's 404."""


@dataclass(frozen=True)
class Item:
    """One order of the inbox as the shop sees it."""

    order: OrderDetail
    evidence: Evidence
    codes: list[trouble.CodeLine]
    estimate: dict[str, Any] | None
    prices: list[PriceOut]  # the shop's price list's lines for the order's jobs
    offer: OfferOut | None  # the shop's offer waiting for its answer
    seconds_left: float | None  # until the offer closes; negative: overdue
    slots: list[Slot]  # free slots to book or move the visit to

    @property
    def minutes_left(self) -> int:
        """Whole minutes left to answer, rounded up (at least 1 while time is left)."""
        return max(1, math.ceil((self.seconds_left or 0) / 60))

    @property
    def minutes_over(self) -> int:
        """Whole minutes since the answer was due, rounded up."""
        return max(1, math.ceil(-(self.seconds_left or 0) / 60))

    @property
    def overdue(self) -> bool:
        """The time to answer passed; the offer goes to the next shop."""
        return self.seconds_left is not None and self.seconds_left <= 0


@dataclass(frozen=True)
class Inbox:
    """The shop's offers (most urgent first) and its bookings (soonest first)."""

    shop_name: str
    timezone: str
    offers: list[Item]
    bookings: list[Item]


def is_shop_staff(principal: Principal) -> bool:
    """Whether ``principal`` works for a shop (the inbox is theirs alone)."""
    return principal.role == "shop_staff" and principal.shop_id is not None


def code_lines(evidence: Evidence) -> list[trouble.CodeLine]:
    """The order's trouble codes with their headline (``web.trouble``)."""
    found = []
    for c in evidence.codes:
        code = str(c.get("code") or "")
        rule = str(c.get("rule") or "")
        if rule not in trouble.HEADLINES:
            try:
                rule = rule_for(code).name
            except InvalidTroubleCode:
                rule = ""
        found.append(
            trouble.CodeLine(
                code=code,
                description=str(c.get("description") or ""),
                urgency=str(c.get("urgency") or "medium"),
                pending=c.get("kind") == "pending",
                rule=rule,
            )
        )
    return found


def jobs_of(order: OrderDetail) -> set[str]:
    """The job codes the order asks for (its request's, else its one job)."""
    return set(((order.match or {}).get("request") or {}).get("jobs") or [order.job.code])


def _item(
    conn: psycopg.Connection,
    principal: Principal,
    order: OrderDetail,
    prices: list[PriceOut],
    now: datetime,
) -> Item | None:
    evidence = order_pages.evidence_of(order)
    mine = [f for f in order.offers if f.shop_id == principal.shop_id and f.response is None]
    offer = mine[-1] if order.status == OFFERED and mine else None
    if order.status == OFFERED and offer is None:
        return None
    slots: list[Slot] = []
    if order.status in BOOKINGS and may_take(principal, "reschedule"):
        free = placement.free_slots(conn=conn, order_id=order.order_id, now=now, limit=SLOTS_SHOWN)
        slots = list(free)
    jobs = jobs_of(order)
    return Item(
        order=order,
        evidence=evidence,
        codes=code_lines(evidence),
        estimate=order_pages.estimate_of(order, order_pages.ranked_shops(order)),
        prices=[p for p in prices if p.job_code in jobs],
        offer=offer,
        seconds_left=(offer.expires_at - now).total_seconds() if offer else None,
        slots=slots,
    )


def _orders(conn: psycopg.Connection, principal: Principal, status: str) -> list[OrderDetail]:
    page = service.list_page(
        conn=conn,
        principal=principal,
        status=status,
        vehicle_id=None,
        shop_id=None,
        limit=PAGE,
        cursor=None,
    )
    found = []
    for o in page.items:
        try:
            found.append(service.detail(conn=conn, order_id=o.order_id, principal=principal))
        except OrderNotFound:
            continue
    return found


def inbox(*, conn: psycopg.Connection, principal: Principal, now: datetime) -> Inbox:
    """The shop's inbox as ``principal`` (shop staff) may see it."""
    assert principal.shop_id is not None
    profile = shop_profile(conn=conn, shop_id=principal.shop_id)
    prices = list(profile.prices)
    offered = [
        item
        for o in _orders(conn, principal, OFFERED)
        if (item := _item(conn, principal, o, prices, now)) is not None
    ]
    offered.sort(key=lambda i: i.seconds_left or 0.0)
    booked = [
        item
        for status in BOOKINGS
        for o in _orders(conn, principal, status)
        if (item := _item(conn, principal, o, prices, now)) is not None
    ]
    booked.sort(key=lambda i: (i.order.appointment is None, _start(i), i.order.order_id))
    return Inbox(profile.name, profile.timezone, offered, booked)


def _start(item: Item) -> float:
    return item.order.appointment.starts_at.timestamp() if item.order.appointment else 0.0


def _own_offer(
    conn: psycopg.Connection, principal: Principal, order_id: int, offer_id: int
) -> None:
    """The API's check: only the shop the offer went to may answer it (404 otherwise)."""
    theirs = scalar(
        conn,
        "SELECT 1 FROM service_offers WHERE offer_id = %s AND order_id = %s "
        "AND (%s OR shop_id = %s)",
        (offer_id, order_id, principal.is_admin, principal.shop_id),
    )
    if theirs is None:
        raise NotInInbox(f"order {order_id} has no offer {offer_id} of this shop")


def answer(
    *,
    conn: psycopg.Connection,
    principal: Principal,
    order_id: int,
    offer_id: int,
    accept: bool,
    now: datetime,
    reason: str = "",
) -> None:
    """The shop accepts or declines its offer (``POST /service-orders/{id}/offers/{offer}/…``)."""
    if not may_take(principal, "answer"):
        raise Refusal("not_allowed")
    _own_offer(conn, principal, order_id, offer_id)
    try:
        offers.respond(
            conn=conn,
            offer_id=offer_id,
            accept=accept,
            now=now,
            policy=PlacementPolicy(),
            reason=reason,
        )
    except OfferLost as exc:
        raise Refusal("offer_lost") from exc
    except OfferClosed as exc:
        raise Refusal("offer_closed") from exc
    except IllegalTransition as exc:
        raise Refusal("illegal", exc.current) from exc


def move(
    *, conn: psycopg.Connection, principal: Principal, order_id: int, slot_id: int, now: datetime
) -> str:
    """Book the picked slot for an accepted order, or move its booked visit to it (the owner
    is told by the order's status change); ``booked`` or ``moved``."""
    status = placement.load_order(conn, order_id).status
    step = "reschedule" if status == "scheduled" else "schedule"
    if not may_take(principal, step):
        raise Refusal("not_allowed")
    try:
        if step == "schedule":
            placement.schedule(
                conn=conn, order_id=order_id, now=now, actor=principal.subject, slot_id=slot_id
            )
            return "booked"
        placement.reschedule(
            conn=conn,
            order_id=order_id,
            now=now,
            actor=principal.subject,
            slot_id=slot_id,
            reason="the shop proposed another time",
        )
    except IllegalTransition as exc:
        raise Refusal("illegal", exc.current) from exc
    except OrdersError as exc:
        raise Refusal("slot_taken") from exc
    return "moved"
