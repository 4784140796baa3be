# SPDX-License-Identifier: MIT
"""A vehicle of the fleet for its manager, ``/fleet/vehicles/{id}``: the owner's car page
(its card, charts, service history, oil analyses and dongles, ``web.car_page``) plus what the
vehicle cost and how long it was off the road (``web.fleet_reports``), its orders waiting for
the fleet's approval, since its first record.

The fleet is the dashboard's (``web.routes.fleet.fleet_or_page``); a vehicle that is not in
it, or that the caller may not see (``web.cars.one_card``, the API's predicate), is a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from db.rows import scalar
from web import car_page, cars, charts, fleet_approvals, i18n
from web import fleet as gather
from web import fleet_reports as reports
from web import orders as order_pages
from web.deps import ConnDep, UserDep
from web.pages import Pages
from web.routes.fleet import BIGINT_MAX, FleetQuery, fleet_or_page

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
# "Since the first record": before any vehicle of ours could have sent one.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


@router.get("/fleet/vehicles/{vehicle_id}")
def fleet_vehicle(
    request: Request, conn: ConnDep, user: UserDep, vehicle_id: Id, fleet_id: FleetQuery = None
) -> Response:
    """One vehicle of the fleet: its charts and history, its costs and downtime."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    pages = _pages(request)
    ours = scalar(
        conn,
        "SELECT 1 FROM vehicles WHERE vehicle_id = %s AND fleet_id = %s",
        (vehicle_id, chosen),
    )
    found = None
    if ours is not None:
        found = cars.one_card(conn=conn, principal=user.principal, vehicle_id=vehicle_id)
    if found is None:
        return pages.render(request, "car_missing.html", status=404, vehicle_id=vehicle_id)
    now = cars.now()
    data = car_page.gather(conn=conn, principal=user.principal, card=found, now=now)
    figures = reports.vehicles(conn, fleet_id=chosen, since=EPOCH, end=now, vehicle_id=vehicle_id)[
        0
    ]
    waiting = [
        w
        for w in fleet_approvals.orders(conn=conn, fleet_id=chosen, now=now)
        if w.vehicle_id == vehicle_id and w.approval == "pending"
    ]
    locale = i18n.babel_locale(pages.language(request, user))
    return pages.render(
        request,
        "fleet_vehicle.html",
        fleet=gather.fleet(conn=conn, fleet_id=chosen),
        asked=fleet_id,
        card=found,
        data=data,
        charts=car_page.draw(data, locale, user.units),
        figures=figures,
        currencies=reports.currencies([figures]),
        waiting=waiting,
        now=now,
        dates=cars.dates,
        money=car_page.money,
        fleet_money=lambda amount, currency: order_pages.money(float(amount), currency, locale),
        view_box=charts.VIEW_BOX,
    )
