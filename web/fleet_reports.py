# SPDX-License-Identifier: MIT
"""The fleet's figures over a period, per vehicle and per month: service costs (per currency,
and per km driven), downtime, services on time, alerts raised and resolved. One query each
over the whole fleet (never one per vehicle), read by the vehicle page (one vehicle), the
reports page, its CSV and the weekly summary.

What the figures mean:

- *cost*: the shops' reports' costs (``service_reports.cost``), per currency, by the day the
  report was made; *per km*: the cost over the distance the vehicle drove in the period, from
  its first odometer reading in the period (``readings``, one index probe per vehicle) to its
  last known odometer (``vehicle_state``);
- *downtime*: from the vehicle's check-in at the shop (the order's ``checked_in`` event) to the
  completion report, or to now while the work goes on; *urgent hours*: the time an urgent
  alert (``URGENT_TIERS``) stood open within the period;
- *on time*: the report's own ``on_time`` (completed by the booked slot's end);
- *alerts*: raised (``created_at``) and resolved (``resolved_at``) in the month.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg

from db.rows import dicts

URGENT_TIERS = ("due_now", "overdue", "high", "critical")
# The reports page's periods, in months back from this month.
PERIODS = (3, 6, 12)
DEFAULT_MONTHS = 6

_COSTS = (
    "SELECT o.vehicle_id, r.currency, sum(r.cost) AS total, count(*) AS services, "
    "count(*) FILTER (WHERE r.on_time) AS on_time "
    "FROM service_reports r JOIN service_orders o USING (order_id) "
    "JOIN vehicles v ON v.vehicle_id = o.vehicle_id "
    "WHERE v.fleet_id = %(fleet)s AND (%(vehicle)s::bigint IS NULL OR v.vehicle_id = %(vehicle)s) "
    "AND r.reported_at >= %(since)s AND r.reported_at < %(end)s GROUP BY 1, 2 ORDER BY 1, 2"
)
_VEHICLES = (
    "SELECT v.vehicle_id, v.vin, NULLIF(concat_ws(' ', v.make, v.model), '') AS name, "
    "s.odometer_km AS odometer_km, first.odometer_km AS first_km "
    "FROM vehicles v LEFT JOIN vehicle_state s USING (vehicle_id) "
    "LEFT JOIN LATERAL (SELECT r.odometer_km FROM readings r WHERE r.vehicle_id = v.vehicle_id "
    "  AND r.time >= %(since)s AND r.time < %(end)s AND r.odometer_km IS NOT NULL "
    "  ORDER BY r.time LIMIT 1) first ON true "
    "WHERE v.fleet_id = %(fleet)s AND (%(vehicle)s::bigint IS NULL OR v.vehicle_id = %(vehicle)s) "
    "ORDER BY v.vehicle_id"
)
# Each visit's time off the road within the period: check-in to the report, or to now.
_DOWNTIME = (
    "SELECT o.vehicle_id, o.order_id, c.at AS checked_in_at, "
    "COALESCE(r.reported_at, CASE WHEN o.status IN ('checked_in', 'in_service') "
    "  THEN %(end)s END, o.updated_at) AS back_at "
    "FROM service_orders o JOIN vehicles v ON v.vehicle_id = o.vehicle_id "
    "JOIN LATERAL (SELECT min(e.at) AS at FROM service_order_events e "
    "  WHERE e.order_id = o.order_id AND e.status = 'checked_in' AND e.kind = 'transition') c "
    "  ON c.at IS NOT NULL "
    "LEFT JOIN service_reports r ON r.order_id = o.order_id "
    "WHERE v.fleet_id = %(fleet)s AND (%(vehicle)s::bigint IS NULL OR v.vehicle_id = %(vehicle)s) "
    "AND o.bundle_id IS NULL AND c.at < %(end)s "
    "AND COALESCE(r.reported_at, %(end)s) >= %(since)s"
)
_URGENT = (
    "SELECT a.vehicle_id, sum(extract(epoch FROM LEAST(COALESCE(a.resolved_at, %(end)s), "
    "%(end)s) - GREATEST(a.created_at, %(since)s))) / 3600 AS hours "
    "FROM alerts a JOIN vehicles v ON v.vehicle_id = a.vehicle_id "
    "WHERE v.fleet_id = %(fleet)s AND (%(vehicle)s::bigint IS NULL OR v.vehicle_id = %(vehicle)s) "
    "AND a.tier = ANY(%(urgent)s) AND a.created_at < %(end)s "
    "AND COALESCE(a.resolved_at, %(end)s) > %(since)s GROUP BY 1"
)
_ALERTS_BY_MONTH = (
    "SELECT date_trunc('month', t AT TIME ZONE 'UTC')::date AS month, "
    "count(*) FILTER (WHERE what = 'raised') AS raised, "
    "count(*) FILTER (WHERE what = 'resolved') AS resolved FROM ("
    "  SELECT a.created_at AS t, 'raised' AS what FROM alerts a "
    "  JOIN vehicles v ON v.vehicle_id = a.vehicle_id WHERE v.fleet_id = %(fleet)s "
    "  AND a.created_at >= %(since)s AND a.created_at < %(end)s "
    "  UNION ALL SELECT a.resolved_at, 'resolved' FROM alerts a "
    "  JOIN vehicles v ON v.vehicle_id = a.vehicle_id WHERE v.fleet_id = %(fleet)s "
    "  AND a.resolved_at >= %(since)s AND a.resolved_at < %(end)s) x GROUP BY 1"
)
_SERVICES_BY_MONTH = (
    "SELECT date_trunc('month', r.reported_at AT TIME ZONE 'UTC')::date AS month, r.currency, "
    "sum(r.cost) AS total, count(*) AS services, count(*) FILTER (WHERE r.on_time) AS on_time "
    "FROM service_reports r JOIN service_orders o USING (order_id) "
    "JOIN vehicles v ON v.vehicle_id = o.vehicle_id WHERE v.fleet_id = %(fleet)s "
    "AND r.reported_at >= %(since)s AND r.reported_at < %(end)s GROUP BY 1, 2"
)


@dataclass
class VehicleFigures:
    """One vehicle's figures over the period."""

    vehicle_id: int
    vin: str
    name: str | None
    cost: dict[str, float] = field(default_factory=dict)  # per currency
    km: float | None = None  # driven in the period, when two odometer readings tell
    services: int = 0
    on_time: int = 0
    downtime_h: float = 0.0
    urgent_h: float = 0.0
    in_shop: bool = False  # checked in now, the work not done

    def per_km(self, currency: str) -> float | None:
        """The cost in ``currency`` per km driven; None without a distance."""
        if not self.km or currency not in self.cost:
            return None
        return self.cost[currency] / self.km


@dataclass
class Month:
    """The fleet's figures of one calendar month (UTC)."""

    month: date
    cost: dict[str, float] = field(default_factory=dict)
    services: int = 0
    on_time: int = 0
    downtime_h: float = 0.0
    alerts_raised: int = 0
    alerts_resolved: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """The share of the month's services done on time."""
        return self.on_time / self.services if self.services else None


def month_start(when: datetime, back: int = 0) -> datetime:
    """The first moment (UTC) of ``when``'s month, ``back`` months earlier."""
    year, month = when.astimezone(UTC).year, when.astimezone(UTC).month - back
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=UTC)


def _params(fleet_id: int, since: datetime, end: datetime, vehicle_id: int | None) -> dict:
    return {
        "fleet": fleet_id,
        "since": since,
        "end": end,
        "vehicle": vehicle_id,
        "urgent": list(URGENT_TIERS),
    }


def vehicles(
    conn: psycopg.Connection,
    *,
    fleet_id: int,
    since: datetime,
    end: datetime,
    vehicle_id: int | None = None,
) -> list[VehicleFigures]:
    """Each of the fleet's vehicles (or the one) with its figures from ``since`` to ``end``."""
    params = _params(fleet_id, since, end, vehicle_id)
    found: dict[int, VehicleFigures] = {}
    for r in dicts(conn, _VEHICLES, params):
        v = found[r["vehicle_id"]] = VehicleFigures(r["vehicle_id"], r["vin"], r["name"])
        if r["odometer_km"] is not None and r["first_km"] is not None:
            v.km = max(0.0, float(r["odometer_km"]) - float(r["first_km"]))
    for r in dicts(conn, _COSTS, params):
        v = found[r["vehicle_id"]]
        v.cost[r["currency"]] = float(r["total"])
        v.services += int(r["services"])
        v.on_time += int(r["on_time"])
    for r in dicts(conn, _DOWNTIME, params):
        start, back = max(r["checked_in_at"], since), min(r["back_at"], end)
        v = found[r["vehicle_id"]]
        v.downtime_h += max(0.0, (back - start).total_seconds() / 3600)
        v.in_shop = v.in_shop or r["back_at"] >= end
    for r in dicts(conn, _URGENT, params):
        found[r["vehicle_id"]].urgent_h = float(r["hours"] or 0.0)
    return list(found.values())


def months(conn: psycopg.Connection, *, fleet_id: int, count: int, now: datetime) -> list[Month]:
    """The fleet's figures for each of the last ``count`` months, this one included (oldest
    first)."""
    since = month_start(now, count - 1)
    by_month = {
        month_start(now, back).date(): Month(month_start(now, back).date())
        for back in range(count - 1, -1, -1)
    }
    params = _params(fleet_id, since, now, None)
    for r in dicts(conn, _SERVICES_BY_MONTH, params):
        m = by_month[r["month"]]
        m.cost[r["currency"]] = float(r["total"])
        m.services += int(r["services"])
        m.on_time += int(r["on_time"])
    for r in dicts(conn, _ALERTS_BY_MONTH, params):
        m = by_month[r["month"]]
        m.alerts_raised, m.alerts_resolved = int(r["raised"]), int(r["resolved"])
    for r in dicts(conn, _DOWNTIME, params):
        # A visit's downtime counts in the month it ended (or this one, while it goes on).
        back = min(r["back_at"], now)
        key = month_start(back).date()
        if key in by_month:
            start = max(r["checked_in_at"], since)
            by_month[key].downtime_h += max(0.0, (back - start).total_seconds() / 3600)
    return list(by_month.values())


def currencies(figures: list[VehicleFigures] | list[Month]) -> list[str]:
    """The currencies the figures are in, the most used first."""
    seen: dict[str, float] = {}
    for f in figures:
        for currency, amount in f.cost.items():
            seen[currency] = seen.get(currency, 0.0) + amount
    return sorted(seen, key=lambda c: (-seen[c], c))


def _cell(value: object) -> str:
    """A CSV cell no spreadsheet takes for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(
    figures: list[VehicleFigures], by_month: list[Month], money: list[str]
) -> Iterator[str]:
    """The report as CSV: a row per vehicle, then a row per month."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["section", "vehicle_id", "vin", "name", "month"]
        + [f"cost_{c}" for c in money]
        + [f"cost_per_km_{c}" for c in money]
        + ["km", "services", "on_time", "downtime_h", "urgent_alert_h"]
        + ["alerts_raised", "alerts_resolved"]
    )
    for v in figures:
        writer.writerow(
            ["vehicle", v.vehicle_id, _cell(v.vin), _cell(v.name or ""), ""]
            + [f"{v.cost.get(c, 0.0):.2f}" for c in money]
            + [("" if v.per_km(c) is None else f"{v.per_km(c):.4f}") for c in money]
            + ["" if v.km is None else f"{v.km:.1f}", v.services, v.on_time]
            + [f"{v.downtime_h:.1f}", f"{v.urgent_h:.1f}", "", ""]
        )
    for m in by_month:
        writer.writerow(
            ["month", "", "", "", m.month.strftime("%Y-%m")]
            + [f"{m.cost.get(c, 0.0):.2f}" for c in money]
            + ["" for _ in money]
            + ["", m.services, m.on_time, f"{m.downtime_h:.1f}", ""]
            + [m.alerts_raised, m.alerts_resolved]
        )
    yield out.getvalue()


def week_of(now: datetime) -> tuple[datetime, datetime]:
    """The last whole week (Monday 00:00 UTC to the next) before ``now``."""
    today = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7), this_monday


def alerts_count(
    conn: psycopg.Connection, *, fleet_id: int, since: datetime, end: datetime
) -> tuple[int, int]:
    """Alerts of the fleet's vehicles raised, and resolved, from ``since`` to ``end``."""
    found = dicts(conn, _ALERTS_BY_MONTH, _params(fleet_id, since, end, None))
    return sum(int(r["raised"]) for r in found), sum(int(r["resolved"]) for r in found)


@dataclass
class Totals:
    """The fleet's figures over a period, summed over its vehicles."""

    cost: dict[str, float]
    km: float
    services: int
    on_time: int
    downtime_h: float
    urgent_h: float
    vehicles: int

    km_cost: dict[str, float] = field(default_factory=dict)  # of the vehicles with a km

    def per_km(self, currency: str) -> float | None:
        """The cost in ``currency`` per km driven by the vehicles with a distance on record
        (and their cost alone, so a car without readings does not lower it)."""
        if not self.km or currency not in self.km_cost:
            return None
        return self.km_cost[currency] / self.km

    @property
    def on_time_rate(self) -> float | None:
        """The share of the services done on time."""
        return self.on_time / self.services if self.services else None


def totals(figures: list[VehicleFigures]) -> Totals:
    """The sum of the vehicles' figures."""
    cost: dict[str, float] = {}
    km_cost: dict[str, float] = {}
    for v in figures:
        for currency, amount in v.cost.items():
            cost[currency] = cost.get(currency, 0.0) + amount
            if v.km:
                km_cost[currency] = km_cost.get(currency, 0.0) + amount
    return Totals(
        cost=cost,
        km=sum(v.km or 0.0 for v in figures),
        services=sum(v.services for v in figures),
        on_time=sum(v.on_time for v in figures),
        downtime_h=sum(v.downtime_h for v in figures),
        urgent_h=sum(v.urgent_h for v in figures),
        vehicles=len(figures),
        km_cost=km_cost,
    )
