# SPDX-License-Identifier: MIT
"""The fleet health table, its KPIs and CSV rows, each one query over the fleet's vehicles.

"Offline" and the KPIs' window are reckoned on the app's clock (``now``, default the
server's), the clock that wrote ``last_seen`` and the service reports: never the database's
``now()`` against them, which differs wherever the two clocks do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from api.fleets.schemas import FleetHealthPage, FleetKpis, FleetVehicle
from api.pagination import decode_cursor, next_cursor
from db.rows import a_dict, dicts, scalar
from predictive.health import OIL_DUE_SOON_PCT, PAD_DUE_SOON_MM, PAD_OVERDUE_MM

# A vehicle not heard from for this long is offline (parked cars send a status when they
# sleep; a day of silence is a dongle unplugged or out of coverage).
OFFLINE_AFTER = timedelta(days=1)

# One row per vehicle, its columns named as FleetVehicle's fields: state, the latest prediction
# of each model, trouble codes, open alerts, and the worst status (the predictions index is
# (vehicle_id, model, time DESC)).
HEALTH_SQL = """
WITH rows AS (
    SELECT v.vehicle_id, v.vin, v.make, v.model, s.odometer_km, s.last_seen,
           oil.value AS oil_pct, oil.remaining_km AS oil_km,
           (pads.evidence->>'pad_front_mm')::float8 AS front,
           (pads.evidence->>'pad_rear_mm')::float8 AS rear,
           pads.value AS thinner, pads.remaining_km AS pads_km,
           COALESCE(d.stored, '{}') || COALESCE(d.pending, '{}') || COALESCE(d.permanent, '{}')
               AS codes,
           (SELECT count(*) FROM alerts a
            WHERE a.vehicle_id = v.vehicle_id AND a.status <> 'resolved') AS open_alerts
    FROM vehicles v
    LEFT JOIN vehicle_state s ON s.vehicle_id = v.vehicle_id
    LEFT JOIN LATERAL (SELECT value, remaining_km FROM predictions p
                       WHERE p.vehicle_id = v.vehicle_id AND p.model = 'oil_life'
                       ORDER BY p.time DESC LIMIT 1) oil ON true
    LEFT JOIN LATERAL (SELECT value, remaining_km, evidence FROM predictions p
                       WHERE p.vehicle_id = v.vehicle_id AND p.model = 'brake_pads'
                       ORDER BY p.time DESC LIMIT 1) pads ON true
    LEFT JOIN vehicle_dtcs d ON d.vehicle_id = v.vehicle_id
    WHERE v.fleet_id = %(fleet)s AND v.vehicle_id > %(after)s
    ORDER BY v.vehicle_id
), statuses AS (
    SELECT *, CASE
        WHEN oil_pct <= 0 OR thinner <= %(pad_overdue)s THEN 'overdue'
        WHEN oil_pct <= %(oil_soon)s OR thinner <= %(pad_soon)s THEN 'due_soon'
        WHEN cardinality(codes) > 0 THEN 'trouble_codes'
        WHEN last_seen IS NULL OR last_seen < %(now)s::timestamptz - %(offline)s THEN 'offline'
        ELSE 'ok' END AS status
    FROM rows
)
SELECT vehicle_id, vin, make, model, status, odometer_km, last_seen, oil_pct AS oil_life_pct,
       oil_km AS oil_remaining_km, front AS pad_front_mm, rear AS pad_rear_mm,
       pads_km AS pads_remaining_km, codes AS trouble_codes, open_alerts
FROM statuses WHERE %(status)s::text IS NULL OR status = %(status)s
ORDER BY vehicle_id LIMIT %(limit)s
"""

COLUMNS = tuple(FleetVehicle.model_fields)


def _params(
    fleet_id: int, after: int, status: str | None, limit: int | None, now: datetime
) -> dict[str, Any]:
    return {
        "now": now,
        "fleet": fleet_id,
        "after": after,
        "status": status,
        "limit": limit,
        "oil_soon": OIL_DUE_SOON_PCT,
        "pad_soon": PAD_DUE_SOON_MM,
        "pad_overdue": PAD_OVERDUE_MM,
        "offline": OFFLINE_AFTER,
    }


def _vehicle(row: dict[str, Any]) -> FleetVehicle:
    oil = row["oil_life_pct"]
    shown = {
        "oil_life_pct": None if oil is None else round(oil, 1),
        "trouble_codes": sorted(set(row["trouble_codes"])),
    }
    return FleetVehicle(**(row | shown))


def health_page(
    *,
    conn: psycopg.Connection,
    fleet_id: int,
    status: str | None,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> FleetHealthPage:
    """One page of the fleet health table, by vehicle id."""
    after = decode_cursor(cursor) or 0
    params = _params(fleet_id, after, status, limit + 1, now or datetime.now(UTC))
    rows = dicts(conn, HEALTH_SQL, params)
    return FleetHealthPage(
        items=[_vehicle(r) for r in rows[:limit]],
        next_cursor=next_cursor([r["vehicle_id"] for r in rows], limit),
    )


def health_csv(
    *, conn: psycopg.Connection, fleet_id: int, status: str | None, now: datetime | None = None
) -> Iterator[str]:
    """The whole health table as CSV lines (a header first), streamed in pages."""
    # One instant for every page: a vehicle cannot go offline between two of them.
    now = now or datetime.now(UTC)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    after = 0
    while True:
        rows = dicts(conn, HEALTH_SQL, _params(fleet_id, after, status, 1000, now))
        for row in rows:
            # As the JSON answers it: ISO 8601 times, figures at their unit's precision.
            vehicle = _vehicle(row).model_dump(mode="json")
            vehicle["trouble_codes"] = " ".join(vehicle["trouble_codes"])
            writer.writerow(vehicle[c] for c in COLUMNS)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < 1000:
            return
        after = rows[-1]["vehicle_id"]


def kpis(
    *, conn: psycopg.Connection, fleet_id: int, days: int, now: datetime | None = None
) -> FleetKpis:
    """Counts by status now, and the services of the last ``days`` days."""
    now = now or datetime.now(UTC)
    by_status = dicts(
        conn,
        sql.SQL("SELECT status, count(*) AS n FROM ({}) t GROUP BY status").format(
            sql.SQL(HEALTH_SQL)
        ),
        _params(fleet_id, 0, None, None, now),
    )
    counts = {r["status"]: r["n"] for r in by_status}
    since = timedelta(days=days)
    services = a_dict(
        conn,
        "SELECT count(*) AS completed, COALESCE(avg(r.on_time::int), NULL) AS on_time_rate, "
        "COALESCE(sum(extract(epoch FROM "
        " r.reported_at - (SELECT min(e.at) FROM service_order_events e "
        "  WHERE e.order_id = o.order_id AND e.status = 'checked_in'))) / 3600, 0) "
        "AS downtime_hours "
        "FROM service_reports r JOIN service_orders o USING (order_id) "
        "JOIN vehicles v ON v.vehicle_id = o.vehicle_id "
        "WHERE v.fleet_id = %s AND r.reported_at >= %s",
        (fleet_id, now - since),
    )
    assert services is not None
    costs = dicts(
        conn,
        "SELECT r.currency, sum(r.cost) AS total FROM service_reports r JOIN service_orders o "
        "USING (order_id) JOIN vehicles v ON v.vehicle_id = o.vehicle_id "
        "WHERE v.fleet_id = %s AND r.reported_at >= %s GROUP BY 1 ORDER BY 1",
        (fleet_id, now - since),
    )
    codes = scalar(
        conn,
        "SELECT count(*) FROM vehicles v JOIN vehicle_dtcs d USING (vehicle_id) WHERE "
        "v.fleet_id = %s AND cardinality(d.stored || d.pending || d.permanent) > 0",
        (fleet_id,),
    )
    return FleetKpis(
        fleet_id=fleet_id,
        days=days,
        vehicles=sum(counts.values()),
        due_soon=counts.get("due_soon", 0),
        overdue=counts.get("overdue", 0),
        with_trouble_codes=int(codes) if codes is not None else 0,
        offline=counts.get("offline", 0),
        services_completed=int(services["completed"]),
        maintenance_cost={str(c["currency"]): float(c["total"]) for c in costs},
        downtime_hours=round(float(services["downtime_hours"] or 0.0), 2),
        on_time_service_rate=(
            None if services["on_time_rate"] is None else round(float(services["on_time_rate"]), 3)
        ),
    )
