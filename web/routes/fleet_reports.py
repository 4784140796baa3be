# SPDX-License-Identifier: MIT
"""The fleet's reports, ``/fleet/reports``: KPIs over the last 3, 6 or 12 months with a chart
per month (costs, downtime, services on time, alerts raised and resolved), the figures per
vehicle, the CSV of both (``/fleet/reports.csv``), and the weekly summary's recipients
(``POST /fleet/reports/recipients``; the mail goes by ``wrenchlight notify weekly-summary``).

The fleet is the dashboard's (``web.routes.fleet.fleet_or_page``): a fleet manager's own, an
admin's ``?fleet_id=``, any other role a plain 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from web import charts, i18n
from web import fleet as gather
from web import fleet_reports as reports
from web import fleet_summary as summary
from web import orders as order_pages
from web.deps import ConnDep, UserDep, clock
from web.pages import Pages
from web.routes.fleet import FleetQuery, fleet_or_page
from web.sessions import WebUser

router = APIRouter()
Months = Annotated[int, Query(ge=1, le=24)]


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def _months(asked: int) -> int:
    return asked if asked in reports.PERIODS else reports.DEFAULT_MONTHS


def _page(
    request: Request,
    conn: ConnDep,
    user: WebUser,
    fleet_id: int,
    asked: int | None,
    months: int,
    *,
    typed: str | None = None,
    wrong: list[str] | None = None,
    too_many: bool = False,
    status: int = 200,
) -> Response:
    now = clock()
    pages = _pages(request)
    locale = i18n.babel_locale(pages.language(request, user))
    by_month = reports.months(conn, fleet_id=fleet_id, count=months, now=now)
    figures = reports.vehicles(
        conn, fleet_id=fleet_id, since=reports.month_start(now, months - 1), end=now
    )
    money = reports.currencies(figures)
    main = money[0] if money else None
    raised = sum(m.alerts_raised for m in by_month)
    resolved = sum(m.alerts_resolved for m in by_month)
    hours = "h"  # the same symbol in both languages

    def chart(values: list[float], unit: str, least: float = 1.0) -> charts.BarChart:
        pairs = [(m.month, v) for m, v in zip(by_month, values, strict=True)]
        return charts.month_chart(months=pairs, unit=unit, locale=locale, least=least)

    drawn = {
        "cost": chart([m.cost.get(main, 0.0) if main else 0.0 for m in by_month], main or ""),
        "downtime": chart([m.downtime_h for m in by_month], hours),
        "on_time": chart([100.0 * (m.on_time_rate or 0.0) for m in by_month], "%"),
        "raised": chart([float(m.alerts_raised) for m in by_month], "", least=4.0),
        "resolved": chart([float(m.alerts_resolved) for m in by_month], "", least=4.0),
    }
    done = request.query_params.get("done")
    return pages.render(
        request,
        "fleet_reports.html",
        status=status,
        fleet=gather.fleet(conn=conn, fleet_id=fleet_id),
        asked=asked,
        months=months,
        periods=reports.PERIODS,
        by_month=by_month,
        figures=sorted(figures, key=lambda v: (-(v.cost.get(main, 0.0) if main else 0.0), v.vin)),
        totals=reports.totals(figures),
        currencies=money,
        main=main,
        raised=raised,
        resolved=resolved,
        drawn=drawn,
        view_box=charts.VIEW_BOX,
        recipients=typed
        if typed is not None
        else "\n".join(summary.recipients(conn, fleet_id=fleet_id)),
        wrong=wrong or [],
        too_many=too_many,
        max_recipients=summary.MAX_RECIPIENTS,
        last_sent=summary.last_sent(conn, fleet_id=fleet_id),
        done=done if done == "recipients" else None,
        money=lambda amount, currency: order_pages.money(float(amount), currency, locale),
    )


@router.get("/fleet/reports")
def fleet_reports(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    fleet_id: FleetQuery = None,
    months: Months = reports.DEFAULT_MONTHS,
) -> Response:
    """The fleet's KPIs per month with charts, per vehicle, and the summary's recipients."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    return _page(request, conn, user, chosen, fleet_id, _months(months))


@router.get("/fleet/reports.csv")
def fleet_reports_csv(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    fleet_id: FleetQuery = None,
    months: Months = reports.DEFAULT_MONTHS,
) -> Response:
    """The report as CSV: a row per vehicle, then a row per month."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    now, count = clock(), _months(months)
    figures = reports.vehicles(
        conn, fleet_id=chosen, since=reports.month_start(now, count - 1), end=now
    )
    by_month = reports.months(conn, fleet_id=chosen, count=count, now=now)
    body = "".join(reports.csv_lines(figures, by_month, reports.currencies(figures)))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="fleet-{chosen}-report.csv"',
            "cache-control": "no-store",
        },
    )


@router.post("/fleet/reports/recipients")
def save_recipients(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    fleet_id: FleetQuery = None,
    recipients: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Replace the weekly summary's recipients; a word that is not an address is named and
    nothing is saved (422)."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    valid, wrong = summary.parse(recipients)
    too_many = len(valid) > summary.MAX_RECIPIENTS
    if wrong or too_many:
        return _page(
            request,
            conn,
            user,
            chosen,
            fleet_id,
            reports.DEFAULT_MONTHS,
            typed=recipients,
            wrong=wrong,
            too_many=too_many,
            status=422,
        )
    summary.set_recipients(conn, fleet_id=chosen, emails=valid)
    root = str(request.scope.get("root_path", ""))
    query = f"?fleet_id={fleet_id}&done=recipients" if fleet_id else "?done=recipients"
    return RedirectResponse(f"{root}/fleet/reports{query}#summary", status_code=303)
