# SPDX-License-Identifier: MIT
"""A car with a history for the car page's tests: a month of daily oil and pad estimates, ten
days of driving, a visit to a shop with its report, an oil analysis and a dongle that is
online; every time relative to ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
from psycopg.types.json import Jsonb
from web_helpers import Person, make_car

from db.timescale import has_timescaledb

HISTORY_DAYS = 30
DRIVEN_DAYS = 10
KM_PER_DAY = 45.0


def _day(now: datetime, days_ago: int) -> datetime:
    midnight = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
    return midnight - timedelta(days=days_ago)


def _refresh_rollups(conn) -> None:
    if has_timescaledb(conn):
        for view in ("readings_1m", "readings_1h"):
            conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
    else:
        conn.execute("SELECT wl_refresh_rollups('-infinity', 'infinity')")


def pad_projection(now: datetime, thinner: float = 6.1) -> dict:
    """The brake model's projection at 0.1 mm per 1000 km and 45 km a day."""
    out = {}
    for tier, level in (("change_soon", 4.0), ("due_now", 3.5), ("overdue", 3.0)):
        km = (thinner - level) / 0.1 * 1000
        out[tier] = {
            "threshold": level,
            "km": km,
            "date": (now + timedelta(days=km / KM_PER_DAY)).isoformat(),
            "reached": False,
        }
    return out


def make_car_with_history(conn, owner: Person, *, vin: str, now: datetime | None = None) -> int:
    """A car of ``owner`` with everything the car page shows."""
    now = now or datetime.now(UTC)
    vehicle_id = make_car(conn, owner, vin=vin, now=now)
    for days_ago in range(1, HISTORY_DAYS + 1):
        at = _day(now, days_ago) + timedelta(hours=18)
        factories.prediction(
            conn, vehicle_id, model="oil_life", value=14.2 + 2.0 * days_ago, time=at
        )
        # An earlier estimate of the same day: the chart takes the day's last.
        factories.prediction(
            conn, vehicle_id, model="oil_life", value=99.0, time=at - timedelta(hours=6)
        )
        factories.prediction(
            conn, vehicle_id, model="brake_pads", value=6.1 + 0.004 * days_ago, time=at
        )
    # The newest estimates come last, as the evaluator writes them: make_car's again.
    conn.execute(
        "INSERT INTO predictions (vehicle_id, model, model_version, time, value, unit, "
        "remaining_km, evidence) SELECT vehicle_id, model, model_version, time, value, unit, "
        "remaining_km, evidence FROM predictions WHERE vehicle_id = %s AND model = 'oil_life' "
        "AND time = %s",
        (vehicle_id, now),
    )
    # The newest brake estimate, with the projection the brake model publishes.
    factories.prediction(
        conn,
        vehicle_id,
        model="brake_pads",
        value=6.1,
        time=now,
        remaining_km=31000.0,
        evidence={"pad_front_mm": 6.1, "pad_rear_mm": 8.3, "projection": pad_projection(now)},
    )
    odometer = 48213.4 - KM_PER_DAY * DRIVEN_DAYS
    for days_ago in range(DRIVEN_DAYS, 0, -1):
        start = _day(now, days_ago) + timedelta(hours=8)
        driven = KM_PER_DAY + days_ago  # 46 to 55 km: each day its own
        conn.execute(
            "INSERT INTO readings (time, vehicle_id, odometer_km) "
            "SELECT %s + s * INTERVAL '1 minute', %s, %s + %s * s / 59.0 "
            "FROM generate_series(0, 59) AS s",
            (start, vehicle_id, odometer, driven),
        )
        odometer += driven
    _refresh_rollups(conn)
    shop = factories.shop(conn, name="Oak Park Auto Service").shop_id
    order = factories.order(conn, vehicle_id, shop_id=shop, status="completed").order_id
    conn.execute(
        "INSERT INTO service_reports (order_id, shop_id, work_done, cost, currency, on_time, "
        "reported_at, odometer_km, oil_changed, pad_front_mm, pad_rear_mm, parts) "
        "VALUES (%s, %s, 'Oil and filter changed', 89.00, 'EUR', true, %s, 37801, true, "
        "7.9, 8.8, %s)",
        (
            order,
            shop,
            now - timedelta(days=40),
            Jsonb([{"part": "engine oil 5W-30", "quantity": 4.5, "unit": "l"}]),
        ),
    )
    conn.execute(
        "INSERT INTO oil_analyses (vehicle_id, sampled_at, drained, life_left_pct, sd_pct, "
        "odometer_km, predicted_consumed_pct, lab, recorded_by) "
        "VALUES (%s, %s, false, 46.0, 3.0, 45310, 50.8, 'Lakeside Oil Lab, report 2026-4471', "
        "'user:1')",
        (vehicle_id, now - timedelta(days=20)),
    )
    device = factories.device(conn, vehicle_id, device_id=f"dongle-{vehicle_id}").device_id
    conn.execute(
        "UPDATE devices SET online = true, status = %s, status_at = %s WHERE device_id = %s",
        (Jsonb({"state": "online", "firmware": "wl-edge 0.4.1"}), now - timedelta(hours=2), device),
    )
    return vehicle_id
