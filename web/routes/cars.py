# SPDX-License-Identifier: MIT
"""The owner's cars: a card per car, and one car's page."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from api.auth.principal import Principal
from web import car_page, cars, charts, i18n, orders
from web.deps import ConnDep, OptionalUserDep, UserDep
from web.pages import Pages

router = APIRouter()
BIGINT_MAX = 2**63 - 1


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


@router.get("/")
def home(request: Request, user: OptionalUserDep) -> Response:
    """Where a user starts: shop staff at their inbox, fleet managers at their fleet's health,
    admins at their console, owners at their cars; the sign-in page before signing in."""
    root = request.scope.get("root_path", "")
    if user is None:
        return RedirectResponse(f"{root}/signin", status_code=303)
    starts = {"shop_staff": "/shop", "fleet_manager": "/fleet", "admin": "/admin"}
    start = starts.get(user.principal.role, "/cars")
    return RedirectResponse(f"{root}{start}", status_code=303)


@router.get("/cars")
def my_cars(request: Request, conn: ConnDep, user: UserDep) -> Response:
    """My cars: a card per car the user may see."""
    found = cars.my_cards(conn=conn, principal=user.principal)
    # htmx refreshes the cards alone (hx-get on #cards); a browser without JS gets the page.
    block = "cards" if _htmx(request) else None
    return _pages(request).render(
        request,
        "cars.html",
        block=block,
        cards=found,
        waiting=_waiting(conn, user.principal),
        now=cars.now(),
        dates=cars.dates,
    )


def _waiting(conn: psycopg.Connection, principal: Principal) -> dict[int, int]:
    """Vehicle → the newest of its orders waiting for the car's side (a proposal to confirm, a
    visit to book), from the first page of the orders list: what the card points at."""
    found, _ = orders.my_orders(conn=conn, principal=principal, cursor=None)
    waiting: dict[int, int] = {}
    for group, members in orders.grouped(found):
        if group == "waiting":
            for order in members:
                waiting.setdefault(order.vehicle_id, order.order_id)
    return waiting


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@router.get("/cars/{vehicle_id}")
def one_car(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    vehicle_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
) -> Response:
    """One car's page: its card, charts, service history, oil analyses and dongles; a car
    that is not there or not the user's is the same 404."""
    pages = _pages(request)
    found = cars.one_card(conn=conn, principal=user.principal, vehicle_id=vehicle_id)
    if found is None:
        return pages.render(request, "car_missing.html", status=404, vehicle_id=vehicle_id)
    now = cars.now()
    if _htmx(request):  # the card alone, refreshed every minute where JavaScript runs
        return pages.render(request, "car.html", block="now", card=found, now=now, dates=cars.dates)
    data = car_page.gather(conn=conn, principal=user.principal, card=found, now=now)
    locale = i18n.babel_locale(pages.language(request, user))
    return pages.render(
        request,
        "car.html",
        card=found,
        data=data,
        charts=car_page.draw(data, locale, user.units),
        now=now,
        dates=cars.dates,
        money=car_page.money,
        view_box=charts.VIEW_BOX,
    )
