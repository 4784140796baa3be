# SPDX-License-Identifier: MIT
"""What an order's page shows and the steps it takes, with the API's own services.

The order is ``GET /service-orders/{id}``'s (``api.orders.service.detail``, shop staff get
their ``shop_view``); its visibility is ``api.deps.valid_order_id``'s, its shop's
``valid_shop_id``'s; who may take a step is ``api.orders.actions.may_take``; the steps are the
orders package's functions the API's routes call (``placement.owner_confirm``, ``schedule``,
``reschedule``, ``cancel``, ``feedback.answer_survey``), with the API's policy. A step the
orders package refuses is a ``Refusal`` naming why in a word the page puts in plain words,
and nothing of it is kept (each step runs in one transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from babel import Locale
from babel.dates import format_skeleton, format_time, get_day_names
from babel.numbers import format_currency, format_decimal

from api.auth.principal import Principal
from api.deps import valid_order_id, valid_shop_id, valid_vehicle_id
from api.orders import service
from api.orders.actions import may_take
from api.orders.schemas import OrderDetail, OrderOut
from api.problems import ProblemError
from api.shops.schemas import PriceOut, ShopOut
from api.shops.service import shop as shop_profile
from api.vehicles import registry
from api.vehicles.schemas import ServiceRecord
from api.vehicles.service import service_report
from orders import feedback, placement
from orders.errors import AwaitingApproval, IllegalTransition, OrderNotFound, OrdersError
from orders.feedback import Survey
from orders.lifecycle import ALLOWED_FROM, OPEN
from orders.policy import PlacementPolicy
from orders.slots import Slot
from predictive import brakes
from web.units import KM_PER_MILE

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOTS_SHOWN = 12
LIST_PAGE = 100
OSM = "https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=16/{lat:.5f}/{lon:.5f}"


class Refusal(Exception):
    """A step the order's state or the caller's role does not allow; ``why`` names the case
    for the page (``illegal``, ``slot_taken``, ``shop_unknown``, ``survey_closed``,
    ``not_allowed``), ``status`` is the order's status when it was refused."""

    def __init__(self, why: str, status: str | None = None) -> None:
        super().__init__(why)
        self.why, self.status = why, status


@dataclass(frozen=True)
class RankedShop:
    """One shop of the ranking as the owner compares them."""

    shop_id: int
    name: str
    rank: int
    distance_km: float | None
    rating: float | None
    rating_count: int
    price: float | None
    currency: str | None
    current: bool


@dataclass(frozen=True)
class HoursLine:
    """Days sharing opening hours: ``days`` in the locale's words, ``spans`` ``08:00–18:00``
    (empty: closed)."""

    days: str
    spans: list[str]


@dataclass(frozen=True)
class ShopCard:
    """The order's shop: its profile, where it is and when it is open."""

    profile: ShopOut
    distance_km: float | None
    hours: list[HoursLine]
    map_url: str
    prices: list[PriceOut]  # its price list's lines for the order's jobs


@dataclass(frozen=True)
class Evidence:
    """Why the job is needed, in figures: the oil life and the distance left, the pads per
    axle, the trouble codes with what they mean."""

    oil_life_pct: float | None
    remaining_km: float | None
    pad_front_mm: float | None
    pad_rear_mm: float | None
    codes: list[dict[str, Any]]
    alert: str | None


@dataclass(frozen=True)
class OrderView:
    """Everything an order's page shows."""

    order: OrderDetail
    car: str
    evidence: Evidence
    shop: ShopCard | None
    ranked: list[RankedShop]
    estimate: dict[str, Any] | None
    slots: list[Slot]
    report: ServiceRecord | None
    survey: Survey | None
    steps: frozenset[str]
    timezone: str

    @property
    def waiting_for_owner(self) -> bool:
        """A proposal the vehicle's side has to confirm or decline."""
        return self.order.status == "proposed" and bool(self.ranked)


def is_visible(conn: psycopg.Connection, principal: Principal, order_id: int) -> bool:
    """Whether ``principal`` may see the order (``GET /service-orders/{id}``'s 404 otherwise)."""
    try:
        valid_order_id(order_id, conn, principal)
    except ProblemError:
        return False
    return True


def _car_title(conn: psycopg.Connection, principal: Principal, order: OrderOut) -> str:
    try:
        valid_vehicle_id(order.vehicle_id, conn, principal)
    except ProblemError:
        return order.vin
    vehicle = registry.get_vehicle(conn=conn, vehicle_id=order.vehicle_id)
    if vehicle is None:
        return order.vin
    words = [str(w) for w in (vehicle.make, vehicle.model, vehicle.model_year) if w]
    return " ".join(words) or order.vin


def evidence_of(order: OrderOut) -> Evidence:
    """The figures behind the order's issue, from its stored evidence."""
    ev = order.evidence or {}
    prediction = ev.get("prediction") or {}
    oil = prediction.get("value") if prediction.get("unit") == "%" else None
    codes = [f for f in ev.get("trouble_code_findings") or [] if isinstance(f, dict)]
    if not codes:
        codes = [
            {"code": c, "description": None, "urgency": None} for c in ev.get("trouble_codes") or []
        ]
    return Evidence(
        oil_life_pct=oil,
        remaining_km=prediction.get("remaining_km"),
        pad_front_mm=prediction.get("pad_front_mm"),
        pad_rear_mm=prediction.get("pad_rear_mm"),
        codes=codes,
        alert=ev.get("alert"),
    )


def ranked_shops(order: OrderOut) -> list[RankedShop]:
    """The shops proposed for the order, best first, with what the matcher knew of each."""
    current = order.shop.shop_id if order.shop else None
    found = []
    for i, r in enumerate((order.match or {}).get("ranked") or []):
        inputs = r.get("inputs") or {}
        found.append(
            RankedShop(
                shop_id=int(r["shop_id"]),
                name=str(r.get("name") or ""),
                rank=int(r.get("rank") or i + 1),
                distance_km=inputs.get("distance_km"),
                rating=inputs.get("rating"),
                rating_count=int(inputs.get("rating_count") or 0),
                price=inputs.get("price"),
                currency=inputs.get("currency"),
                current=r["shop_id"] == current,
            )
        )
    return found


def estimate_of(order: OrderOut, ranked: list[RankedShop]) -> dict[str, Any] | None:
    """The price of the order's jobs at its shop: the shop's own entry of the ranking (the
    stored estimate is the best-ranked shop's, which the owner may have passed over)."""
    jobs = ((order.match or {}).get("request") or {}).get("jobs") or [order.job.code]
    mine = next((r for r in ranked if r.current), None)
    if mine is not None and mine.price is not None:
        return {"total": mine.price, "currency": mine.currency, "jobs": jobs}
    return order.estimate


def hours_lines(hours: dict[str, list[list[str]]], locale: Locale) -> list[HoursLine]:
    """Opening hours a line per run of days open alike: ``Mon – Fri 08:00–18:00``."""
    names = get_day_names("abbreviated", locale=locale)
    runs: list[tuple[int, int, list[str]]] = []
    for i, day in enumerate(DAYS):
        spans = [f"{a}–{b}" for a, b in hours.get(day) or []]
        if runs and runs[-1][2] == spans and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i, spans)
        else:
            runs.append((i, i, spans))
    return [
        HoursLine(names[a] if a == b else f"{names[a]} – {names[b]}", spans) for a, b, spans in runs
    ]


def _shop_card(
    conn: psycopg.Connection, principal: Principal, order: OrderOut, locale: Locale
) -> ShopCard | None:
    if order.shop is None:
        return None
    try:
        valid_shop_id(order.shop.shop_id, conn, principal)
        profile = shop_profile(conn=conn, shop_id=order.shop.shop_id)
    except ProblemError:
        return None
    jobs = set(((order.match or {}).get("request") or {}).get("jobs") or [order.job.code])
    return ShopCard(
        profile=profile,
        distance_km=order.shop.distance_km,
        hours=hours_lines(profile.hours, locale),
        map_url=OSM.format(lat=profile.lat, lon=profile.lon),
        prices=[p for p in profile.prices if p.job_code in jobs],
    )


def steps_of(
    principal: Principal,
    order: OrderOut,
    ranked: list[RankedShop],
    survey: Survey | None,
    now: datetime,
) -> frozenset[str]:
    """The steps the page offers: those the order's status and the caller's role allow."""
    status = order.status
    offered = set()
    if status == "proposed" and ranked:
        offered.add("confirm")
    if status == "accepted":
        offered.add("schedule")
    if status == "scheduled":
        offered.add("reschedule")
    if status in ALLOWED_FROM["cancelled"]:
        offered.add("cancel")
    if survey is not None and survey.is_open(now):
        offered.add("survey")
    return frozenset(s for s in offered if may_take(principal, s))


def _slots(
    conn: psycopg.Connection, order: OrderOut, steps: frozenset[str], now: datetime
) -> list[Slot]:
    """Free slots to pick from: to book or move the visit, or with the confirmation when the
    shop is assigned at once (``auto``); otherwise the shop accepts first."""
    booking = steps & {"schedule", "reschedule"}
    at_once = "confirm" in steps and order.dispatch_mode == "auto"
    if order.shop is None or not (booking or at_once):
        return []
    free = placement.free_slots(conn=conn, order_id=order.order_id, now=now, limit=SLOTS_SHOWN * 4)
    # A time is a time to the owner, whichever bay is free then: one choice per start.
    starts: dict[datetime, Slot] = {}
    for slot in free:
        starts.setdefault(slot.starts_at, slot)
    return list(starts.values())[:SLOTS_SHOWN]


def order_view(
    *, conn: psycopg.Connection, principal: Principal, order_id: int, now: datetime, locale: Locale
) -> OrderView | None:
    """The order's page as ``principal`` may see it, or None (not there, or not theirs: the
    API's one 404 for both)."""
    if not is_visible(conn, principal, order_id):
        return None
    try:
        order = service.detail(conn=conn, order_id=order_id, principal=principal)
    except OrderNotFound:
        return None
    ranked = ranked_shops(order)
    shop = _shop_card(conn, principal, order, locale)
    survey = feedback.survey(conn=conn, order_id=order_id)
    steps = steps_of(principal, order, ranked, survey, now)
    return OrderView(
        order=order,
        car=_car_title(conn, principal, order),
        evidence=evidence_of(order),
        shop=shop,
        ranked=ranked,
        estimate=estimate_of(order, ranked),
        slots=_slots(conn, order, steps, now),
        report=service_report(conn=conn, order_id=order_id)
        if order.status == "completed"
        else None,
        survey=survey,
        steps=steps,
        timezone=shop.profile.timezone if shop else "UTC",
    )


def my_orders(
    *, conn: psycopg.Connection, principal: Principal, cursor: str | None
) -> tuple[list[OrderOut], str | None]:
    """A page of the orders ``principal`` may see, newest first (``GET /service-orders``)."""
    page = service.list_page(
        conn=conn,
        principal=principal,
        status=None,
        vehicle_id=None,
        shop_id=None,
        limit=LIST_PAGE,
        cursor=cursor,
    )
    return page.items, page.next_cursor


def grouped(found: list[OrderOut]) -> list[tuple[str, list[OrderOut]]]:
    """Orders in the list's groups: waiting for the vehicle's side (a proposal to confirm, a
    visit to book), under way, finished; each newest first."""
    groups: dict[str, list[OrderOut]] = {"waiting": [], "under_way": [], "finished": []}
    for o in found:
        waiting = (o.status == "proposed" and bool((o.match or {}).get("ranked"))) or (
            o.status == "accepted"
        )
        key = "waiting" if waiting else "under_way" if is_open(o.status) else "finished"
        groups[key].append(o)
    return list(groups.items())


@contextmanager
def refusals() -> Iterator[None]:
    """The orders package's refusals as a ``Refusal``; the step's transaction rolls back."""
    try:
        yield
    except IllegalTransition as exc:
        raise Refusal("illegal", exc.current) from exc
    except AwaitingApproval as exc:
        raise Refusal(f"approval_{exc.approval}") from exc


def _status(conn: psycopg.Connection, order_id: int) -> str:
    return placement.load_order(conn, order_id).status


def _check(principal: Principal, step: str) -> None:
    if not may_take(principal, step):
        raise Refusal("not_allowed")


def confirm(
    *,
    conn: psycopg.Connection,
    principal: Principal,
    order_id: int,
    now: datetime,
    shop_id: int | None,
    slot_id: int | None,
) -> str:
    """The owner confirms the proposal (at another proposed shop, with ``shop_id``); with a
    slot, and the shop assigned at once, the visit is booked in the same transaction. The
    order's status after it."""
    _check(principal, "confirm")
    with refusals():
        try:
            with conn.transaction():
                placement.owner_confirm(
                    conn=conn, order_id=order_id, now=now, policy=PlacementPolicy(), shop_id=shop_id
                )
                if slot_id is not None and _status(conn, order_id) == "accepted":
                    _book(conn, principal, order_id, now, slot_id)
        except IllegalTransition:
            raise
        except OrdersError as exc:
            raise Refusal(
                "slot_taken" if slot_id is not None and shop_id is None else "shop_unknown"
            ) from exc
    return _status(conn, order_id)


def _book(
    conn: psycopg.Connection, principal: Principal, order_id: int, now: datetime, slot_id: int
) -> None:
    placement.schedule(
        conn=conn, order_id=order_id, now=now, actor=principal.subject, slot_id=slot_id
    )


def book(
    *, conn: psycopg.Connection, principal: Principal, order_id: int, now: datetime, slot_id: int
) -> None:
    """Book the picked slot for an accepted order, or move a booked visit to it."""
    step = "reschedule" if _status(conn, order_id) == "scheduled" else "schedule"
    _check(principal, step)
    with refusals():
        try:
            with conn.transaction():
                if step == "schedule":
                    _book(conn, principal, order_id, now, slot_id)
                else:
                    placement.reschedule(
                        conn=conn,
                        order_id=order_id,
                        now=now,
                        actor=principal.subject,
                        slot_id=slot_id,
                        reason="the owner picked another time",
                    )
        except IllegalTransition:
            raise
        except OrdersError as exc:
            raise Refusal("slot_taken") from exc


def decline(
    *, conn: psycopg.Connection, principal: Principal, order_id: int, now: datetime, reason: str
) -> None:
    """The vehicle's side declines the proposal or cancels the visit, saying why."""
    _check(principal, "cancel")
    with refusals(), conn.transaction():
        placement.cancel(
            conn=conn, order_id=order_id, now=now, actor=principal.subject, reason=reason
        )


def answer_survey(
    *,
    conn: psycopg.Connection,
    principal: Principal,
    order_id: int,
    now: datetime,
    score: int,
    comment: str,
) -> None:
    """The owner's recommendation of the shop, once."""
    _check(principal, "survey")
    try:
        with conn.transaction():
            feedback.answer_survey(
                conn=conn, order_id=order_id, score=score, now=now, comment=comment
            )
    except OrdersError as exc:
        raise Refusal("survey_closed") from exc


def money(amount: float, currency: str | None, locale: Locale) -> str:
    """An amount in its currency as the locale writes it."""
    if not currency:
        return format_decimal(round(amount, 2), format="#,##0.00", locale=locale)
    return format_currency(amount, currency, locale=locale)


def local_time(when: datetime, timezone: str, locale: Locale) -> str:
    """A moment in the shop's time zone (slots are made from its opening hours): weekday, day
    and month, and the time, as the locale writes them."""
    zone = ZoneInfo(timezone)
    day = format_skeleton("MMMEd", when, tzinfo=zone, locale=locale)
    return f"{day} {format_time(when, 'short', tzinfo=zone, locale=locale)}"


def near(km: float, units: str, locale: Locale) -> str:
    """A distance to a shop: to a tenth below ten (2.7 km), whole beyond, in the user's units."""
    value = km / KM_PER_MILE if units == "imperial" else km
    digits = 1 if value < 10 else 0
    text = format_decimal(
        round(value, digits), format="#,##0.#" if digits else "#,##0", locale=locale
    )
    return f"{text} {'mi' if units == 'imperial' else 'km'}"


def is_open(status: str) -> bool:
    """Whether the order still stands."""
    return status in OPEN


# The pads' limits the page's words quote: a new pad, and the minimum one may drive on.
NEW_PAD_MM = brakes.NEW_PAD_MM
MIN_PAD_MM = brakes.MIN_PAD_MM
