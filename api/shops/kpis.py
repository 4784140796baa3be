# SPDX-License-Identifier: MIT
"""``GET /shops/{id}/kpis``: the shop's KPIs (``orders.kpis``) per week or month, as JSON.

Every figure has the same shape: its value over the period, how many things it was computed
over (``count``) and one point per bucket. ``value`` is null where ``count`` is 0: no data
yet, never a 0 that was not measured.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
from pydantic import BaseModel, ConfigDict, Field

from api.figures import round_money
from api.problems import ProblemError, not_found
from orders import kpis

# Decimals per figure in responses (the page and the API show the same numbers).
_DIGITS = {
    "response_time_median_s": 1,
    "acceptance_rate": 3,
    "conversion_rate": 3,
    "on_time_rate": 3,
    "return_rate": 3,
    "survey_score": 2,
    "nps": 1,
}
_DESCRIPTIONS = {
    "response_time_median_s": "Median seconds from an offer to the shop's answer (accepted or "
    "declined); count: answers",
    "acceptance_rate": "Accepted offers over offers accepted, declined or expired (0-1); "
    "withdrawn and open offers are left out; count: those offers",
    "conversion_rate": "Offers whose order the shop completed over closed offers (0-1); "
    "count: closed offers",
    "on_time_rate": "Visits completed by the end of the booked slot (or, when work started "
    "after it, 2 h after the start) over completed visits (0-1); count: visits",
    "return_rate": "Visits after which the same car had the same job completed again, by any "
    "shop, within 30 days (0-1); count: visits",
    "survey_score": "Mean answer of the owners' 0-10 surveys; count: answers",
    "nps": "Net promoter score: % of answers 9-10 minus % of answers 0-6 (-100 to 100); "
    "count: answers",
    "revenue": "Sum of the visits' report costs in the shop's currency; count: those visits",
}


class KpiPoint(BaseModel):
    """A figure in one bucket (a week from Monday, or a month)."""

    start: date = Field(description="The bucket's first day, on the shop's calendar")
    value: float | None = Field(description="null: nothing to compute it over")
    count: int


class KpiFigure(BaseModel):
    """A figure over the period and per bucket."""

    value: float | None = Field(description="null: no data yet")
    count: int
    series: list[KpiPoint]


_EXAMPLE_FIGURE: dict[str, Any] = {
    "value": 0.5,
    "count": 4,
    "series": [
        {"start": "2026-11-09", "value": 0.333, "count": 3},
        {"start": "2026-11-16", "value": 1.0, "count": 1},
    ],
}
_EXAMPLE_NONE: dict[str, Any] = {
    "value": None,
    "count": 0,
    "series": [
        {"start": "2026-11-09", "value": None, "count": 0},
        {"start": "2026-11-16", "value": None, "count": 0},
    ],
}


class ShopKpisOut(BaseModel):
    """A shop's KPIs over a period: days on the shop's own calendar, both included."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "shop_id": 17,
                    "from": "2026-11-09",
                    "to": "2026-11-22",
                    "bucket": "week",
                    "time_zone": "Europe/Berlin",
                    "currency": "EUR",
                    "other_currency_visits": 0,
                    "response_time_median_s": _EXAMPLE_FIGURE | {"value": 95.0},
                    "acceptance_rate": _EXAMPLE_FIGURE,
                    "conversion_rate": _EXAMPLE_FIGURE | {"value": 0.25},
                    "on_time_rate": _EXAMPLE_FIGURE | {"value": 1.0},
                    "return_rate": _EXAMPLE_FIGURE | {"value": 0.0},
                    "survey_score": _EXAMPLE_FIGURE | {"value": 9.0},
                    "nps": _EXAMPLE_NONE,
                    "revenue": _EXAMPLE_FIGURE | {"value": 412.5},
                }
            ]
        },
        populate_by_name=True,
    )

    shop_id: int
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    bucket: kpis.Bucket
    time_zone: str
    currency: str
    other_currency_visits: int = Field(
        description="Visits reported in another currency: in the other figures, not in revenue"
    )
    response_time_median_s: KpiFigure = Field(description=_DESCRIPTIONS["response_time_median_s"])
    acceptance_rate: KpiFigure = Field(description=_DESCRIPTIONS["acceptance_rate"])
    conversion_rate: KpiFigure = Field(description=_DESCRIPTIONS["conversion_rate"])
    on_time_rate: KpiFigure = Field(description=_DESCRIPTIONS["on_time_rate"])
    return_rate: KpiFigure = Field(description=_DESCRIPTIONS["return_rate"])
    survey_score: KpiFigure = Field(description=_DESCRIPTIONS["survey_score"])
    nps: KpiFigure = Field(description=_DESCRIPTIONS["nps"])
    revenue: KpiFigure = Field(description=_DESCRIPTIONS["revenue"])


def _rounded(name: str, value: float | None, currency: str) -> float | None:
    if value is None:
        return None
    if name == "revenue":
        return round_money(float(value), currency)
    return round(float(value), _DIGITS[name])


def _figure(name: str, figure: kpis.Figure, currency: str) -> KpiFigure:
    return KpiFigure(
        value=_rounded(name, figure.value, currency),
        count=figure.count,
        series=[
            KpiPoint(start=p.start, value=_rounded(name, p.value, currency), count=p.count)
            for p in figure.series
        ],
    )


def shop_kpis(
    *,
    conn: psycopg.Connection,
    shop_id: int,
    now: datetime,
    start: date | None,
    end: date | None,
    bucket: kpis.Bucket,
) -> ShopKpisOut:
    """The shop's KPIs; 400 problem details for a period one may not ask for."""
    try:
        found = kpis.shop_kpis(conn, shop_id=shop_id, now=now, start=start, end=end, bucket=bucket)
    except kpis.BadPeriod as exc:
        raise ProblemError(400, "bad-period", "Not a period one may ask for", str(exc)) from exc
    except kpis.ShopNotFound as exc:
        raise not_found("shop", shop_id) from exc
    return ShopKpisOut(
        shop_id=shop_id,
        start=found.start,
        end=found.end,
        bucket=found.bucket,
        time_zone=found.time_zone,
        currency=found.currency,
        other_currency_visits=found.other_currency_visits,
        **{n: _figure(n, f, found.currency) for n, f in found.figures.items()},
    )
