# SPDX-License-Identifier: MIT
"""The fleet manager's dashboard: the fleet's health table (filtered, searched, sorted and
paged by GET forms, so it works without JavaScript; htmx swaps the table alone), the due list,
and the table as CSV.

Fleet managers see their own fleet; an admin picks one by ``?fleet_id=`` (the API lets
admins read any fleet). Another fleet is the API's 404, any other role a plain 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from web import fleet as gather
from web import fleet_approvals
from web.deps import ConnDep, UserDep, clock
from web.pages import Pages
from web.sessions import WebUser

router = APIRouter()
BIGINT_MAX = 2**63 - 1
FleetQuery = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]
Text = Annotated[str | None, Query(max_length=200)]


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def fleet_or_page(
    request: Request, conn: ConnDep, user: WebUser, asked: int | None
) -> int | Response:
    """The fleet to show, or the page that says why there is none."""
    pages = _pages(request)
    try:
        fleet_id = gather.fleet_for(conn=conn, principal=user.principal, asked=asked)
    except gather.NotAllowed:
        return pages.render(request, "fleet_forbidden.html", status=403)
    if fleet_id is not None:
        return fleet_id
    if user.principal.is_admin and asked is None:
        found = gather.fleets(conn=conn, principal=user.principal)
        return pages.render(request, "fleet_pick.html", fleets=found)
    return pages.render(request, "fleet_missing.html", status=404)


@router.get("/fleet")
def fleet_health(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    fleet_id: FleetQuery = None,
    state: Text = None,
    q: Text = None,
    sort: Text = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The fleet's health table, worst first unless sorted otherwise."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    query = gather.Query.of(state, q, sort, page)
    now = clock()
    found = gather.table(conn=conn, fleet_id=chosen, query=query, now=now)
    block = "table" if request.headers.get("hx-request") == "true" else None
    # Where the manager starts: what waits for their decision is said first, with its page
    # (not for htmx's swaps of the table alone, which leave it where it is).
    decided = [] if block else fleet_approvals.orders(conn=conn, fleet_id=chosen, now=now)
    return _pages(request).render(
        request,
        "fleet_health.html",
        block=block,
        fleet=gather.fleet(conn=conn, fleet_id=chosen),
        asked=fleet_id,
        waiting=sum(1 for w in decided if w.approval == "pending"),
        table=found,
        query=query,
        filters=list(gather.FILTERS),
        sorts=list(gather.SORTS),
    )


@router.get("/fleet/due")
def fleet_due(
    request: Request, conn: ConnDep, user: UserDep, fleet_id: FleetQuery = None
) -> Response:
    """Everything due across the fleet in the next 30 days or 3,000 km, by date."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    now = clock()
    return _pages(request).render(
        request,
        "fleet_due.html",
        fleet=gather.fleet(conn=conn, fleet_id=chosen),
        asked=fleet_id,
        items=gather.due_list(conn=conn, principal=user.principal, fleet_id=chosen, now=now),
        days=gather.DUE_DAYS,
        km=gather.DUE_KM,
    )


@router.get("/fleet/health.csv")
def fleet_health_csv(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    fleet_id: FleetQuery = None,
    state: Text = None,
    q: Text = None,
    sort: Text = None,
) -> Response:
    """The table as CSV with the same state, search and order, every page of it."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    query = gather.Query.of(state, q, sort, 1)
    rows = gather.matching(gather.all_rows(conn=conn, fleet_id=chosen, now=clock()), query)
    # One body, written before answering: the connection goes back to the pool when this
    # returns, and a thousand rows are a few hundred kB.
    return Response(
        "".join(gather.csv_lines(rows)),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="fleet-{chosen}-health.csv"',
            "cache-control": "no-store",
        },
    )
