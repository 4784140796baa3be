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

from api.fleets.schemas import FleetHealthPage, FleetKpis, FleetVehicle
from api.pagination import decode_cursor, next_cursor
from predictive.health import OIL_DUE_SOON_PCT, PAD_DUE_SOON_MM, PAD_OVERDUE_MM

# A vehicle not heard from for this long is offline (parked cars send a status when they
# sleep; a day of silence is a dongle unplugged or out of coverage).
OFFLINE_AFTER = timedelta(days=1)

# One row per vehicle: state, the latest prediction of each model, trouble codes, open
# alerts, and the worst status (the predictions index is (vehicle_id, model, time DESC)).
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
SELECT vehicle_id, vin, make, model, status, odometer_km, last_seen, oil_pct, oil_km,
       front, rear, pads_km, codes, open_alerts
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


def _vehicle(row: tuple[Any, ...]) -> FleetVehicle:
    return FleetVehicle(
        vehicle_id=row[0],
        vin=row[1],
        make=row[2],
        model=row[3],
        status=row[4],
        odometer_km=row[5],
        last_seen=row[6],
        oil_life_pct=None if row[7] is None else round(row[7], 1),
        oil_remaining_km=row[8],
        pad_front_mm=row[9],
        pad_rear_mm=row[10],
        pads_remaining_km=row[11],
        trouble_codes=sorted(set(row[12])),
        open_alerts=row[13],
    )


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
    rows = conn.execute(HEALTH_SQL, params).fetchall()
    return FleetHealthPage(
        items=[_vehicle(r) for r in rows[:limit]],
        next_cursor=next_cursor([r[0] for r in rows], limit),
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
        rows = conn.execute(HEALTH_SQL, _params(fleet_id, after, status, 1000, now)).fetchall()
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
        after = rows[-1][0]


def kpis(
    *, conn: psycopg.Connection, fleet_id: int, days: int, now: datetime | None = None
) -> FleetKpis:
    """Counts by status now, and the services of the last ``days`` days."""
    now = now or datetime.now(UTC)
    counts = {
        status: n
        for status, n in conn.execute(
            f"SELECT status, count(*) FROM ({HEALTH_SQL}) t GROUP BY status",
            _params(fleet_id, 0, None, None, now),
        )
    }
    since = timedelta(days=days)
    services = conn.execute(
        "SELECT count(*), COALESCE(avg(r.on_time::int), NULL), COALESCE(sum(extract(epoch FROM "
        " r.reported_at - (SELECT min(e.at) FROM service_order_events e "
        "  WHERE e.order_id = o.order_id AND e.status = 'checked_in'))) / 3600, 0) "
        "FROM service_reports r JOIN service_orders o USING (order_id) "
        "JOIN vehicles v ON v.vehicle_id = o.vehicle_id "
        "WHERE v.fleet_id = %s AND r.reported_at >= %s",
        (fleet_id, now - since),
    ).fetchone()
    assert services is not None
    costs = conn.execute(
        "SELECT r.currency, sum(r.cost) FROM service_reports r JOIN service_orders o "
        "USING (order_id) JOIN vehicles v ON v.vehicle_id = o.vehicle_id "
        "WHERE v.fleet_id = %s AND r.reported_at >= %s GROUP BY 1 ORDER BY 1",
        (fleet_id, now - since),
    ).fetchall()
    codes = conn.execute(
        "SELECT count(*) FROM vehicles v JOIN vehicle_dtcs d USING (vehicle_id) WHERE "
        "v.fleet_id = %s AND cardinality(d.stored || d.pending || d.permanent) > 0",
        (fleet_id,),
    ).fetchone()
    return FleetKpis(
        fleet_id=fleet_id,
        days=days,
        vehicles=sum(counts.values()),
        due_soon=counts.get("due_soon", 0),
        overdue=counts.get("overdue", 0),
        with_trouble_codes=int(codes[0]) if codes else 0,
        offline=counts.get("offline", 0),
        services_completed=int(services[0]),
        maintenance_cost={str(c): float(total) for c, total in costs},
        downtime_hours=round(float(services[2] or 0.0), 2),
        on_time_service_rate=None if services[1] is None else round(float(services[1]), 3),
    )
