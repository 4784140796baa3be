# SPDX-License-Identifier: MIT
"""What one car's page shows, gathered with the API's own services and access predicates,
and the charts drawn from it (``web.charts``).

- the card (``web.cars``): health, projections, trouble codes;
- oil life and the thinner pad over time: the models' outputs as ``GET
  /vehicles/{id}/predictions`` lists them, one per day (the day's newest) over the last
  ``HISTORY_DAYS``. The route pages every output, newest first, and a busy car has thousands;
  the chart needs the day's last, so this reads those alone, one index probe per day
  (``predictions_vehicle_model_time``); values only, never the model's running state. The car's
  side only, like the route (``VEHICLE_SIDE``);
- distance driven per day: the odometer's daily series as ``GET
  /vehicles/{id}/telemetry?signal=odometer_km&bucket=1d`` gives it (``telemetry.series``),
  each day's highest reading less its lowest;
- service history and oil analyses: ``service.service_history`` and ``service.oil_analyses``
  behind the history predicate (``api.deps.valid_history_vehicle_id``);
- the dongles: those of the car the caller may see (``access.devices``, the predicate of
  ``GET /devices/{id}``), with the last status each sent (online, firmware) and whether its
  pairing code was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
from babel import Locale
from babel.numbers import format_currency
from psycopg import sql

from api import access
from api.auth.principal import Principal
from api.deps import VEHICLE_SIDE, valid_history_vehicle_id
from api.problems import ProblemError
from api.vehicles import service, telemetry
from api.vehicles.schemas import OilAnalysisOut, ServiceRecord, TierProjection
from db.rows import dicts
from predictive.health import BRAKE_MODEL, OIL_MODEL, TIERS
from web import charts, units
from web.cars import Card

HISTORY_DAYS = 90
DISTANCE_DAYS = 30
# The predicted path is drawn at least this far ahead, and as far as the next tier (plus a
# margin) up to the history's length.
MIN_AHEAD_DAYS = 14
AHEAD_MARGIN = 1.15
LISTED = 20
BAND_STEPS = 12

# The day's newest output of a model, for each day of a range: one index probe per day.
_DAILY = sql.SQL(
    "SELECT p.time, p.value FROM generate_series(%(start)s::timestamptz, "
    "%(end)s::timestamptz - interval '1 day', interval '1 day') AS d(day) "
    "CROSS JOIN LATERAL (SELECT time, value FROM predictions "
    "WHERE vehicle_id = %(v)s AND model = %(m)s AND time >= d.day "
    "AND time < d.day + interval '1 day' ORDER BY time DESC LIMIT 1) p ORDER BY p.time"
)

_DONGLES = sql.SQL(
    "SELECT d.device_id, coalesce(d.status->>'firmware', d.firmware) AS firmware, d.online, "
    "d.status_at, d.provisioned, c.used_at AS paired_at, d.created_at FROM devices d "
    "LEFT JOIN device_pairing_codes c USING (device_id) "
    "WHERE d.vehicle_id = %(vehicle)s AND {} ORDER BY d.created_at, d.device_id"
)


@dataclass(frozen=True)
class Dongle:
    """A dongle on the car, as its last status message left it."""

    device_id: str
    firmware: str | None
    online: bool | None  # None: it never sent a status
    status_at: datetime | None
    provisioned: bool
    paired_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class CarData:
    """Everything the car page shows, in the API's units (km, %, mm)."""

    card: Card
    now: datetime
    oil: list[tuple[datetime, float]]
    pads: list[tuple[datetime, float]]
    distances: list[tuple[date, float]]
    services: list[ServiceRecord]
    analyses: list[OilAnalysisOut]
    dongles: list[Dongle]

    @property
    def has_data(self) -> bool:
        """Whether the car has sent anything the page can show."""
        h = self.card.health
        return bool(self.oil or self.pads or self.distances or h.oil or h.brake_pads or h.last_seen)


@dataclass(frozen=True)
class Charts:
    """The page's charts, in the user's units; None where there is nothing to draw."""

    oil: charts.LineChart | None
    pads: charts.LineChart | None
    distance: charts.BarChart | None
    distance_unit: str
    distances: list[tuple[date, float]]  # in the user's units, for the table


def _day(when: datetime) -> datetime:
    return datetime.combine(when.astimezone(UTC).date(), datetime.min.time(), UTC)


def daily(
    conn: psycopg.Connection, *, vehicle_id: int, model: str, start: datetime, end: datetime
) -> list[tuple[datetime, float]]:
    """The day's newest output of ``model`` for each UTC day from ``start`` to ``end``."""
    params = {"v": vehicle_id, "m": model, "start": start, "end": end}
    return [(r["time"], float(r["value"])) for r in dicts(conn, _DAILY, params)]


def distances(
    conn: psycopg.Connection, *, vehicle_id: int, start: datetime, end: datetime
) -> list[tuple[date, float]]:
    """Km driven each day: the day's highest odometer reading less its lowest."""
    found = telemetry.series(
        conn,
        vehicle_id=vehicle_id,
        signal="odometer_km",
        bucket=telemetry.Bucket.day,
        start=start,
        end=end,
    )
    return [(t.astimezone(UTC).date(), hi - lo) for t, _, lo, hi, _ in found.points]


def dongles(conn: psycopg.Connection, *, vehicle_id: int, principal: Principal) -> list[Dongle]:
    """The car's dongles ``principal`` may see."""
    where, params = access.devices(principal)
    rows = conn.execute(_DONGLES.format(where), {**params, "vehicle": vehicle_id}).fetchall()
    return [Dongle(*row) for row in rows]


def _history(
    conn: psycopg.Connection, vehicle_id: int, principal: Principal
) -> tuple[list[ServiceRecord], list[OilAnalysisOut]]:
    try:
        valid_history_vehicle_id(vehicle_id, conn, principal)
    except ProblemError:
        return [], []
    visits = service.service_history(conn=conn, vehicle_id=vehicle_id, limit=LISTED, cursor=None)
    labs = service.oil_analyses(conn=conn, vehicle_id=vehicle_id, limit=LISTED, cursor=None)
    return visits.items, labs.items


def gather(*, conn: psycopg.Connection, principal: Principal, card: Card, now: datetime) -> CarData:
    """The page of the car of ``card`` (whose visibility ``web.cars.one_card`` checked)."""
    vehicle_id = card.health.vehicle_id
    end = _day(now) + timedelta(days=1)
    oil: list[tuple[datetime, float]] = []
    pads: list[tuple[datetime, float]] = []
    driven: list[tuple[date, float]] = []
    if principal.is_admin or principal.role in VEHICLE_SIDE:
        start = end - timedelta(days=HISTORY_DAYS)
        oil = daily(conn, vehicle_id=vehicle_id, model=OIL_MODEL, start=start, end=end)
        pads = daily(conn, vehicle_id=vehicle_id, model=BRAKE_MODEL, start=start, end=end)
        driven = distances(
            conn, vehicle_id=vehicle_id, start=end - timedelta(days=DISTANCE_DAYS), end=end
        )
    visits, labs = _history(conn, vehicle_id, principal)
    return CarData(
        card=card,
        now=now,
        oil=oil,
        pads=pads,
        distances=driven,
        services=visits,
        analyses=labs,
        dongles=dongles(conn, vehicle_id=vehicle_id, principal=principal),
    )


def predicted_path(
    value: float, as_of: datetime, projection: dict[str, TierProjection]
) -> list[tuple[datetime, float]]:
    """From the latest value through each tier not reached yet, at its projected date."""
    path = [(as_of, value)]
    for tier in TIERS:
        step = projection.get(tier)
        if step is not None and not step.reached and step.date is not None:
            path.append((step.date, step.threshold))
    return path if len(path) > 1 else []


def band_path(
    path: list[tuple[datetime, float]], band: tuple[float, float], end: datetime
) -> list[tuple[datetime, float, float]]:
    """The band around ``path``: its width now, moving at the path's first rate, never below
    zero, sampled to ``end``."""
    if len(path) < 2:
        return []
    (t0, v0), (t1, v1) = path[0], path[1]
    per_s = (v0 - v1) / max((t1 - t0).total_seconds(), 1.0)
    low, high = min(band), max(band)
    span = max((end - t0).total_seconds(), 1.0)
    out = []
    for i in range(BAND_STEPS + 1):
        t = t0 + timedelta(seconds=span * i / BAND_STEPS)
        drop = per_s * (t - t0).total_seconds()
        out.append((t, max(0.0, low - drop), max(0.0, high - drop)))
    return out


def _window(
    points: list[tuple[datetime, float]], path: list[tuple[datetime, float]], now: datetime
) -> tuple[datetime, datetime]:
    """From the first point (a week at least, ``HISTORY_DAYS`` at most) to far enough ahead to
    see the next tier."""
    first = min([t for t, _ in points] + [now - timedelta(days=7)])
    start = max(_day(first), _day(now) - timedelta(days=HISTORY_DAYS - 1))
    past_days = (now - start) / timedelta(days=1)
    ahead = max(MIN_AHEAD_DAYS, past_days / 2)
    if len(path) > 1:
        ahead = max(ahead, (path[1][0] - now) / timedelta(days=1) * AHEAD_MARGIN)
    return start, _day(now) + timedelta(days=min(ahead, HISTORY_DAYS) + 1)


def _thresholds(projection: dict[str, TierProjection]) -> list[tuple[str, float]]:
    return [(tier, projection[tier].threshold) for tier in TIERS if tier in projection]


def oil_chart(data: CarData, locale: Locale) -> charts.LineChart | None:
    """Oil life over time with its tiers, predicted path and band."""
    oil = data.card.health.oil
    if oil is None and not data.oil:
        return None
    observed = list(data.oil)
    path: list[tuple[datetime, float]] = []
    band: list[tuple[datetime, float, float]] = []
    projection = {} if oil is None else oil.projection
    if oil is not None:
        if not observed or observed[-1][0] < oil.as_of:
            observed.append((oil.as_of, oil.oil_life_pct))
        path = predicted_path(oil.oil_life_pct, oil.as_of, projection)
    start, end = _window(observed, path, data.now)
    if oil is not None and oil.life_band_pct is not None and path:
        band = band_path(path, oil.life_band_pct, end)
    return charts.line_chart(
        observed=observed,
        predicted=path,
        band=band,
        thresholds=_thresholds(projection),
        start=start,
        end=end,
        today=data.now,
        top=100.0,
        unit="%",
        locale=locale,
    )


def pads_chart(data: CarData, locale: Locale) -> charts.LineChart | None:
    """The thinner pad over time with its tiers and predicted path (the model has no band)."""
    pads = data.card.health.brake_pads
    if pads is None and not data.pads:
        return None
    observed = list(data.pads)
    path: list[tuple[datetime, float]] = []
    projection = data.card.pads_projection
    if pads is not None:
        thinner = min(pads.pad_front_mm, pads.pad_rear_mm)
        if not observed or observed[-1][0] < pads.as_of:
            observed.append((pads.as_of, thinner))
        path = predicted_path(thinner, pads.as_of, projection)
    start, end = _window(observed, path, data.now)
    top = charts.nice_top(max(v for _, v in observed) + 1.0)
    return charts.line_chart(
        observed=observed,
        predicted=path,
        band=[],
        thresholds=_thresholds(projection),
        start=start,
        end=end,
        today=data.now,
        top=top,
        unit="mm",
        locale=locale,
    )


def draw(data: CarData, locale: Locale, unit_system: str) -> Charts:
    """The page's charts for this user's language and units."""
    unit = "mi" if unit_system == "imperial" else "km"
    per_day = [(day, km / units.KM_PER_MILE if unit == "mi" else km) for day, km in data.distances]
    last = data.now.astimezone(UTC).date()
    bars = None
    if per_day:
        bars = charts.bar_chart(
            days=per_day,
            start=last - timedelta(days=DISTANCE_DAYS - 1),
            end=last,
            unit=unit,
            locale=locale,
        )
    return Charts(
        oil=oil_chart(data, locale),
        pads=pads_chart(data, locale),
        distance=bars,
        distance_unit=unit,
        distances=per_day,
    )


def money(amount: float, currency: str, locale: Locale) -> str:
    """An amount in its currency, as people of ``locale`` write it."""
    return format_currency(amount, currency, locale=locale)
