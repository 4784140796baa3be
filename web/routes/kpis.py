# SPDX-License-Identifier: MIT
"""The shop's KPIs at ``/shop/kpis``: each figure's number for the period, its definition and
its bars per week or month; a GET form picks the period, so it works without JavaScript.

Shop staff see their own shop; an admin picks one by ``?shop_id=``. Another shop is the API's
404, any other role a plain 403. A period one may not ask for is said in plain words (400).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.problems import ProblemError
from orders.kpis import Bucket
from web import charts, i18n
from web import kpis as gather
from web.deps import ConnDep, UserDep, clock
from web.pages import Pages
from web.routes.shop import application_page
from web.shop import is_shop_staff

router = APIRouter()
BIGINT_MAX = 2**63 - 1


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def _day(text: str) -> date | None:
    """A day typed in the form (YYYY-MM-DD); blank: the default. ValueError else."""
    return date.fromisoformat(text.strip()) if text.strip() else None


@router.get("/shop/kpis")
def shop_kpis(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    bucket: Annotated[str, Query(max_length=5)] = "week",
    shop_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> Response:
    """The shop's KPIs over the period (default the last 12 weeks)."""
    pages = _pages(request)
    try:
        chosen = gather.shop_for(conn, principal=user.principal, asked=shop_id)
    except gather.NotAllowed:
        return pages.render(request, "shop_kpis_forbidden.html", status=403)
    except gather.NoSuchShop:
        return pages.render(request, "shop_kpis_missing.html", status=404, shop_id=shop_id)
    context: dict[str, Any] = {
        "asked": shop_id,
        "form": {"from": start, "to": end, "bucket": bucket},
    }
    if chosen is None:  # an admin who has not picked a shop yet
        return pages.render(request, "shop_kpis.html", found=None, error=None, **context)
    staff = is_shop_staff(user.principal)  # of the chosen shop: shop_for let no other through
    if staff and (waiting := application_page(request, conn, user)) is not None:
        return waiting  # while their shop is not verified
    chosen_bucket: Bucket = "month" if bucket == "month" else "week"
    try:
        first, last = _day(start), _day(end)
    except ValueError:
        return pages.render(
            request, "shop_kpis.html", status=400, found=None, error="day", **context
        )
    locale = i18n.babel_locale(pages.language(request, user))
    try:
        found = gather.page(
            conn,
            shop_id=chosen,
            now=clock(),
            start=first,
            end=last,
            bucket=chosen_bucket,
            locale=locale,
        )
    except ProblemError:
        return pages.render(
            request, "shop_kpis.html", status=400, found=None, error="period", **context
        )
    context["form"] = {"from": found.kpis.start, "to": found.kpis.end, "bucket": chosen_bucket}
    return pages.render(
        request,
        "shop_kpis.html",
        found=found,
        error=None,
        view_box=charts.VIEW_BOX,
        **context,
    )
