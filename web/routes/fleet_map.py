# SPDX-License-Identifier: MIT
"""The fleet's map (``/fleet/map``): its vehicles where they are based and the shops around
them, under the same rules as the rest of the dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web import fleet as gather
from web import fleet_map
from web.deps import ConnDep, UserDep, clock
from web.pages import Pages
from web.routes.fleet import FleetQuery, fleet_or_page

router = APIRouter()


@router.get("/fleet/map")
def fleet_map_page(
    request: Request, conn: ConnDep, user: UserDep, fleet_id: FleetQuery = None
) -> Response:
    """The map, worst vehicles drawn on top; a list says the same in words."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    rows = gather.all_rows(conn=conn, fleet_id=chosen, now=clock())
    pages: Pages = request.app.state.pages
    return pages.render(
        request,
        "fleet_map.html",
        fleet=gather.fleet(conn=conn, fleet_id=chosen),
        asked=fleet_id,
        drawing=fleet_map.fleet_map(conn=conn, fleet_id=chosen, rows=rows),
    )
