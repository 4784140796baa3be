# SPDX-License-Identifier: MIT
"""A shop's KPIs over a period, in weekly or monthly buckets: what the shop's page and
``GET /shops/{id}/kpis`` show. Three queries, one per family of figures, each grouped by bucket
and over the whole period at once (``GROUPING SETS``):

- offers: ``service_offers`` made to the shop in the period (by ``offered_at``): median
  response time, acceptance rate, conversion to a completed visit. An order assigned in
  ``auto`` mode is recorded as an offer accepted at once, which the shop never answered: it
  is not counted;
- visits: ``service_reports`` of the shop in the period (by ``reported_at``): on-time
  completion, return rate, revenue;
- surveys: ``service_surveys`` of the shop answered in the period (by ``answered_at``): mean
  score, NPS.

Definitions, as the page states them:

- *response time*: from the offer to the shop's answer (accepted or declined); offers that
  expired or were withdrawn unanswered have none. The median of the period's answers.
- *acceptance rate*: accepted offers over offers that were accepted, declined or expired
  (an offer withdrawn because another shop won first, or the order was cancelled, was never
  the shop's to answer; one still open has no outcome yet).
- *conversion*: offers whose order the shop then completed (its report) over the offers that
  are closed (answered, expired or withdrawn).
- *on-time completion*: visits whose report came by the time the work was due
  (``service_reports.on_time``, recorded at completion: the booked slot's end, or, when work
  started after the slot had ended, ``feedback.DEFAULT_SERVICE_TIME`` after the start).
- *return rate*: visits after which the same car had the same job (job code) completed again,
  by any shop, within ``RETURN_WINDOW`` of the visit's completion.
- *survey score*: the mean 0-10 answer; *NPS*: percent of promoters (9-10) minus percent of
  detractors (0-6), -100 to 100.
- *revenue*: the sum of the reports' costs in the shop's currency (a report in another
  currency is counted apart, never converted).

A figure over nothing is ``None`` ("no data yet"), never 0: a shop without surveys has no
NPS, a week without offers no acceptance rate. Buckets and the period's days are the shop's
local calendar (its ``timezone``); weeks start on Monday.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import psycopg

from db.rows import a_dict, dicts
from orders.errors import OrdersError

Bucket = Literal["week", "month"]
BUCKETS: tuple[Bucket, ...] = ("week", "month")
DEFAULT_WEEKS = 12
# The longest period one request may ask for: two years of weeks is about 105 buckets.
MAX_DAYS = 731
# Days outside these years are no period of a shop's (and keep date arithmetic in range).
YEARS = (1900, 2200)
RETURN_WINDOW = timedelta(days=30)
FIGURES = (
    "response_time_median_s",
    "acceptance_rate",
    "conversion_rate",
    "on_time_rate",
    "return_rate",
    "survey_score",
    "nps",
    "revenue",
)


class BadPeriod(OrdersError):
    """A period that cannot be asked for: ``to`` before ``from``, or longer than
    ``MAX_DAYS``."""


class ShopNotFound(OrdersError):
    """No shop with this id."""


@dataclass(frozen=True)
class Point:
    """One bucket of a figure: its first day, the value (None: nothing to compute it over) and
    how many things it was computed over."""

    start: date
    value: float | None
    count: int


@dataclass(frozen=True)
class Figure:
    """A figure over the whole period and per bucket."""

    value: float | None
    count: int
    series: list[Point]


@dataclass(frozen=True)
class ShopKpis:
    """A shop's figures over ``start``..``end`` (local days, both included)."""

    shop_id: int
    start: date
    end: date
    bucket: Bucket
    currency: str
    time_zone: str
    figures: dict[str, Figure]
    other_currency_visits: int = 0
    buckets: list[date] = field(default_factory=list)


def bucket_start(day: date, bucket: Bucket) -> date:
    """The first day of ``day``'s week (Monday) or month."""
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def bucket_starts(start: date, end: date, bucket: Bucket) -> list[date]:
    """The first days of every bucket that ``start``..``end`` touches."""
    out = []
    at = bucket_start(start, bucket)
    while at <= end:
        out.append(at)
        if bucket == "week":
            at += timedelta(days=7)
        else:
            at = (at.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def default_period(today: date) -> tuple[date, date]:
    """The last ``DEFAULT_WEEKS`` weeks, this one included: from the Monday eleven weeks ago
    through today."""
    return bucket_start(today, "week") - timedelta(weeks=DEFAULT_WEEKS - 1), today


def check_period(start: date, end: date) -> None:
    """``BadPeriod`` unless ``start``..``end`` is a period one may ask for."""
    for day in (start, end):
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise BadPeriod(f"days must be in the years {YEARS[0]} to {YEARS[1]}")
    if end < start:
        raise BadPeriod("the period ends before it starts")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadPeriod(f"the period is longer than {MAX_DAYS} days")


# The shop's local calendar: the period's first and last day, as instants.
_SHOP = (
    "s AS (SELECT timezone AS tz, currency,"
    " (%(start)s::date)::timestamp AT TIME ZONE timezone AS lo,"
    " (%(end)s::date + 1)::timestamp AT TIME ZONE timezone AS hi"
    " FROM shops WHERE shop_id = %(shop)s)"
)

OFFERS = (
    "WITH " + _SHOP + ", f AS ("
    " SELECT date_trunc(%(unit)s, f.offered_at AT TIME ZONE s.tz)::date AS bucket,"
    "  f.response, extract(epoch FROM f.responded_at - f.offered_at) AS response_s,"
    "  EXISTS (SELECT 1 FROM service_reports r WHERE r.order_id = f.order_id"
    "   AND r.shop_id = f.shop_id) AS converted"
    " FROM service_offers f CROSS JOIN s"
    " WHERE f.shop_id = %(shop)s AND f.mode <> 'auto'"
    " AND f.offered_at >= s.lo AND f.offered_at < s.hi"
    ") SELECT bucket, GROUPING(bucket) AS total,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY response_s)"
    "  FILTER (WHERE response IN ('accepted', 'declined')) AS response_median_s,"
    " count(*) FILTER (WHERE response IN ('accepted', 'declined')) AS answered,"
    " count(*) FILTER (WHERE response = 'accepted') AS accepted,"
    " count(*) FILTER (WHERE response IN ('accepted', 'declined', 'expired')) AS decided,"
    " count(*) FILTER (WHERE converted AND response IS NOT NULL) AS converted,"
    " count(*) FILTER (WHERE response IS NOT NULL) AS closed"
    " FROM f GROUP BY GROUPING SETS ((bucket), ())"
)

VISITS = (
    "WITH " + _SHOP + ", v AS ("
    " SELECT date_trunc(%(unit)s, r.reported_at AT TIME ZONE s.tz)::date AS bucket,"
    "  r.on_time, r.cost, r.currency = s.currency AS in_currency,"
    "  EXISTS (SELECT 1 FROM service_orders o2 JOIN service_reports r2 USING (order_id)"
    "   WHERE o2.vehicle_id = o.vehicle_id AND o2.job_code = o.job_code"
    "   AND o2.order_id <> o.order_id AND r2.reported_at > r.reported_at"
    "   AND r2.reported_at <= r.reported_at + %(window)s) AS returned"
    " FROM service_reports r JOIN service_orders o USING (order_id) CROSS JOIN s"
    " WHERE r.shop_id = %(shop)s AND r.reported_at >= s.lo AND r.reported_at < s.hi"
    ") SELECT bucket, GROUPING(bucket) AS total, count(*) AS visits,"
    " count(*) FILTER (WHERE on_time) AS on_time,"
    " count(*) FILTER (WHERE returned) AS returned,"
    " sum(cost) FILTER (WHERE in_currency) AS revenue,"
    " count(*) FILTER (WHERE in_currency) AS priced,"
    " count(*) FILTER (WHERE NOT in_currency) AS other_currency"
    " FROM v GROUP BY GROUPING SETS ((bucket), ())"
)

SURVEYS = (
    "WITH " + _SHOP + ", a AS ("
    " SELECT date_trunc(%(unit)s, v.answered_at AT TIME ZONE s.tz)::date AS bucket, v.score"
    " FROM service_surveys v CROSS JOIN s"
    " WHERE v.shop_id = %(shop)s AND v.score IS NOT NULL"
    " AND v.answered_at >= s.lo AND v.answered_at < s.hi"
    ") SELECT bucket, GROUPING(bucket) AS total, count(*) AS answered,"
    " avg(score)::double precision AS score_mean,"
    " count(*) FILTER (WHERE score >= 9) AS promoters,"
    " count(*) FILTER (WHERE score <= 6) AS detractors"
    " FROM a GROUP BY GROUPING SETS ((bucket), ())"
)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# Each figure: (its value from a row, the count it is computed over).
_OF_OFFERS = {
    "response_time_median_s": lambda r: (r["response_median_s"], r["answered"]),
    "acceptance_rate": lambda r: (_ratio(r["accepted"], r["decided"]), r["decided"]),
    "conversion_rate": lambda r: (_ratio(r["converted"], r["closed"]), r["closed"]),
}
_OF_VISITS = {
    "on_time_rate": lambda r: (_ratio(r["on_time"], r["visits"]), r["visits"]),
    "return_rate": lambda r: (_ratio(r["returned"], r["visits"]), r["visits"]),
    "revenue": lambda r: (float(r["revenue"]) if r["priced"] else None, r["priced"]),
}
_OF_SURVEYS = {
    "survey_score": lambda r: (r["score_mean"], r["answered"]),
    "nps": lambda r: (
        100.0 * (r["promoters"] - r["detractors"]) / r["answered"] if r["answered"] else None,
        r["answered"],
    ),
}


def _figures(rows: list[dict[str, Any]], of: dict[str, Any], starts: list[date]) -> dict:
    by_bucket = {r["bucket"]: r for r in rows if not r["total"]}
    total = next((r for r in rows if r["total"]), None)
    out = {}
    for name, read in of.items():
        series = []
        for start in starts:
            row = by_bucket.get(start)
            value, count = read(row) if row else (None, 0)
            series.append(Point(start, None if not count else value, int(count)))
        value, count = read(total) if total else (None, 0)
        out[name] = Figure(None if not count else value, int(count), series)
    return out


def shop_kpis(
    conn: psycopg.Connection,
    *,
    shop_id: int,
    now: datetime,
    start: date | None = None,
    end: date | None = None,
    bucket: Bucket = "week",
) -> ShopKpis:
    """The shop's KPIs from ``start`` to ``end`` (its local days, both included; default the
    last ``DEFAULT_WEEKS`` weeks up to ``now``'s day); ``BadPeriod``, ``ShopNotFound``."""
    shop = a_dict(conn, "SELECT timezone, currency FROM shops WHERE shop_id = %s", (shop_id,))
    if shop is None:
        raise ShopNotFound(shop_id)
    today = now.astimezone(ZoneInfo(shop["timezone"])).date()
    for day in (start, end):
        if day is not None and not YEARS[0] <= day.year <= YEARS[1]:
            check_period(day, day)  # says why
    end = end or today
    start = start or default_period(end)[0]
    check_period(start, end)
    starts = bucket_starts(start, end, bucket)
    params = {
        "shop": shop_id,
        "start": start,
        "end": end,
        "unit": bucket,
        "window": RETURN_WINDOW,
    }
    figures: dict[str, Figure] = {}
    figures |= _figures(dicts(conn, OFFERS, params), _OF_OFFERS, starts)
    visits = dicts(conn, VISITS, params)
    figures |= _figures(visits, _OF_VISITS, starts)
    figures |= _figures(dicts(conn, SURVEYS, params), _OF_SURVEYS, starts)
    other = next((int(r["other_currency"]) for r in visits if r["total"]), 0)
    return ShopKpis(
        shop_id=shop_id,
        start=start,
        end=end,
        bucket=bucket,
        currency=shop["currency"],
        time_zone=shop["timezone"],
        figures={name: figures[name] for name in FIGURES},
        other_currency_visits=other,
        buckets=starts,
    )
