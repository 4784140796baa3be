# SPDX-License-Identifier: MIT
"""What the shop's KPI page shows: ``GET /shops/{id}/kpis``'s figures (the API's own service,
``api.shops.kpis``), each with its number for the period in the user's language, its bars per
week or month (``web.charts.period_bars``) and the table of the same numbers.

Which shop: shop staff their own; an admin the one asked for by ``?shop_id=`` (the API lets
admins read any shop); whether the caller may see it is the API's predicate
(``api.access.shops``), so another shop is the same 404. Any other role is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent
from psycopg import sql

from api import access
from api.auth.principal import Principal
from api.shops.kpis import KpiFigure, ShopKpisOut
from api.shops.kpis import shop_kpis as api_shop_kpis
from db.rows import a_dict
from orders.kpis import Bucket
from web import charts
from web import orders as order_pages

RATES = ("acceptance_rate", "conversion_rate", "on_time_rate", "return_rate")


class NotAllowed(Exception):
    """The caller's role has no shop figures to see."""


class NoSuchShop(Exception):
    """No shop the caller may see by that id: the API's 404."""


@dataclass(frozen=True)
class Row:
    """One bucket of a figure, as the table beside its chart shows it."""

    label: str
    value: str | None  # None: nothing to compute it over
    count: int


@dataclass(frozen=True)
class FigureView:
    """One figure: its number for the period (None: no data yet), its chart and table."""

    name: str
    value: str | None
    count: int
    chart: charts.BarChart
    rows: list[Row]


@dataclass(frozen=True)
class KpiPage:
    """The page's shop, period and figures."""

    shop_id: int
    shop_name: str
    kpis: ShopKpisOut
    figures: list[FigureView]


def shop_for(conn: psycopg.Connection, *, principal: Principal, asked: int | None) -> int | None:
    """The shop whose figures to show: shop staff their own, an admin the one asked for (None
    when none was); ``NotAllowed`` for other roles, ``NoSuchShop`` for one they may not see."""
    if principal.role == "shop_staff" and principal.shop_id is not None:
        chosen = asked or principal.shop_id
    elif principal.is_admin:
        if asked is None:
            return None
        chosen = asked
    else:
        raise NotAllowed
    where, params = access.shops(principal)
    query = sql.SQL("SELECT s.shop_id FROM shops s WHERE s.shop_id = %(id)s AND {}").format(where)
    if a_dict(conn, query, {"id": chosen, **params}) is None:
        raise NoSuchShop
    return chosen


def bucket_label(start: date, bucket: Bucket, locale: Locale) -> str:
    """A week by its Monday ("Nov 9"), a month by its name ("November 2026")."""
    return format_skeleton("MMMd" if bucket == "week" else "yMMMM", start, locale=locale)


def _text(name: str, value: float | None, currency: str, locale: Locale) -> str | None:
    if value is None:
        return None
    if name in RATES:
        return format_percent(value, format="#,##0.#%", locale=locale)
    if name == "response_time_median_s":
        if value < 90:
            return f"{format_decimal(value, format='#,##0', locale=locale)} s"
        return f"{format_decimal(value / 60, format='#,##0.#', locale=locale)} min"
    if name == "revenue":
        return order_pages.money(value, currency, locale)
    return format_decimal(value, format="#,##0.#", locale=locale)


def _chart(
    name: str, figure: KpiFigure, bucket: Bucket, currency: str, locale: Locale
) -> charts.BarChart:
    scale = 100.0 if name in RATES else 1.0
    # Revenue's axis without the currency (the card says it): "2,000 EUR" would not fit.
    unit = {"response_time_median_s": "s"}.get(name, "")
    unit = "%" if name in RATES else unit
    per = 1.0
    slowest = max((p.value for p in figure.series if p.value is not None), default=0.0)
    if name == "response_time_median_s" and slowest >= 120:
        unit, per = "min", 60.0
    points = [(p.start, None if p.value is None else p.value * scale / per) for p in figure.series]
    labels = [
        f"{bucket_label(p.start, bucket, locale)}: {_text(name, p.value, currency, locale) or '–'}"
        for p in figure.series
    ]
    bounds: dict[str, tuple[float, float | None]] = {
        "nps": (-100.0, 100.0),
        "survey_score": (0.0, 10.0),
        **dict.fromkeys(RATES, (0.0, 100.0)),
    }
    low, top = bounds.get(name, (0.0, None))
    skeleton = "MMMd" if bucket == "week" else "MMM"
    return charts.period_bars(
        points=points,
        labels=labels,
        unit=unit,
        locale=locale,
        skeleton=skeleton,
        low=low,
        top=top,
    )


def page(
    conn: psycopg.Connection,
    *,
    shop_id: int,
    now: datetime,
    start: date | None,
    end: date | None,
    bucket: Bucket,
    locale: Locale,
) -> KpiPage:
    """The figures of the shop over the period, through the API's service (its ``ProblemError``
    400 for a period one may not ask for)."""
    kpis = api_shop_kpis(conn=conn, shop_id=shop_id, now=now, start=start, end=end, bucket=bucket)
    name = a_dict(conn, "SELECT name FROM shops WHERE shop_id = %s", (shop_id,))
    views = []
    for figure_name in type(kpis).model_fields:
        figure = getattr(kpis, figure_name)
        if not isinstance(figure, KpiFigure):
            continue
        rows = [
            Row(
                bucket_label(p.start, bucket, locale),
                _text(figure_name, p.value, kpis.currency, locale),
                p.count,
            )
            for p in figure.series
        ]
        views.append(
            FigureView(
                figure_name,
                _text(figure_name, figure.value, kpis.currency, locale),
                figure.count,
                _chart(figure_name, figure, bucket, kpis.currency, locale),
                rows,
            )
        )
    return KpiPage(shop_id, name["name"] if name else "", kpis, views)
