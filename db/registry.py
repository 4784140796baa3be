# SPDX-License-Identifier: MIT
"""Vehicles and devices: the rows every other table hangs off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from db.rows import record, scalar


def create_vehicle(
    conn: psycopg.Connection,
    *,
    vin: str,
    fuel_type: str = "petrol",
    make: str | None = None,
    model: str | None = None,
    model_year: int | None = None,
    mass_kg: float | None = None,
    body_type: str | None = None,
    owner_name: str | None = None,
    owner_email: str | None = None,
    home_lat: float | None = None,
    home_lon: float | None = None,
    fleet_id: int | None = None,
    oil_changed_at: datetime | None = None,
    oil_changed_odometer_km: float | None = None,
    pads_measured_at: datetime | None = None,
    pads_measured_odometer_km: float | None = None,
    pad_front_mm: float | None = None,
    pad_rear_mm: float | None = None,
) -> int:
    """Insert a vehicle (or return the existing one with this VIN) and return its id."""
    fields: dict[str, Any] = {k: v for k, v in locals().items() if k != "conn"}
    # Unmeasured pads are new ones: the column default says how thick (db imports nothing of
    # ours, so predictive.thresholds.NEW_PAD_MM cannot be named here; a test keeps them equal).
    for axle in ("pad_front_mm", "pad_rear_mm"):
        if fields[axle] is None:
            del fields[axle]
    query = sql.SQL(
        "INSERT INTO vehicles ({cols}) VALUES ({params}) "
        "ON CONFLICT (vin) DO UPDATE SET vin = EXCLUDED.vin RETURNING vehicle_id"
    ).format(
        cols=sql.SQL(", ").join(map(sql.Identifier, fields)),
        params=sql.SQL(", ").join(map(sql.Placeholder, fields)),
    )
    vehicle_id = scalar(conn, query, fields)
    assert vehicle_id is not None
    return int(vehicle_id)


def register_device(
    conn: psycopg.Connection, *, device_id: str, vehicle_id: int, firmware: str | None = None
) -> None:
    """Attach a device to a vehicle (re-attaching moves it)."""
    conn.execute(
        "INSERT INTO devices (device_id, vehicle_id, firmware) VALUES (%s, %s, %s) "
        "ON CONFLICT (device_id) DO UPDATE SET vehicle_id = EXCLUDED.vehicle_id, "
        "firmware = COALESCE(EXCLUDED.firmware, devices.firmware)",
        (device_id, vehicle_id, firmware),
    )


@dataclass(frozen=True, slots=True)
class _DeviceVehicle:
    """The vehicle a device is attached to."""

    vehicle_id: int
    vin: str


def device_vehicle(conn: psycopg.Connection, device_id: str) -> tuple[int, str] | None:
    """(vehicle_id, vin) of the vehicle a device is attached to, or None for unknown devices."""
    found = record(
        conn,
        _DeviceVehicle,
        "SELECT v.vehicle_id, v.vin FROM devices d JOIN vehicles v USING (vehicle_id) "
        "WHERE d.device_id = %s",
        (device_id,),
    )
    return (int(found.vehicle_id), str(found.vin)) if found else None


def set_pads_measured(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    measured_at: datetime,
    front_mm: float,
    rear_mm: float,
    odometer_km: float | None,
) -> bool:
    """Make a pad measurement the vehicle's brake baseline (the pad model restarts from it);
    False for an unknown vehicle."""
    row = conn.execute(
        "UPDATE vehicles SET pads_measured_at = %s, pad_front_mm = %s, pad_rear_mm = %s, "
        "pads_measured_odometer_km = %s WHERE vehicle_id = %s RETURNING vehicle_id",
        (measured_at, front_mm, rear_mm, odometer_km, vehicle_id),
    ).fetchone()
    return row is not None


# A hand-read odometer may be rounded to the km, telemetry's is an estimate to a tenth.
ODOMETER_SLACK_KM = 1.0

# Every odometer the car is known to have shown, each with when: its telemetry's latest (and
# the ends of its trips, which stay behind as it drives on), its last oil change and pad
# measurement, its lab samples. ``%(at)s`` keeps those read at or before a time.
_LAST_ODOMETER_SQL = (
    "SELECT GREATEST("
    "(SELECT s.odometer_km FROM vehicle_state s "
    "WHERE s.vehicle_id = v.vehicle_id AND s.last_seen <= %(at)s), "
    "(SELECT max(t.end_odometer_km) FROM trips t "
    "WHERE t.vehicle_id = v.vehicle_id AND t.ended_at <= %(at)s), "
    "CASE WHEN coalesce(v.oil_changed_at, '-infinity') <= %(at)s "
    "THEN v.oil_changed_odometer_km END, "
    "CASE WHEN coalesce(v.pads_measured_at, '-infinity') <= %(at)s "
    "THEN v.pads_measured_odometer_km END, "
    "(SELECT max(a.odometer_km) FROM oil_analyses a "
    "WHERE a.vehicle_id = v.vehicle_id AND a.sampled_at <= %(at)s)"
    ") FROM vehicles v WHERE v.vehicle_id = %(vehicle)s"
)


def last_odometer(
    conn: psycopg.Connection, *, vehicle_id: int, at: datetime | None = None
) -> float | None:
    """The car's last known odometer (its telemetry, a trip, a service, a lab sample), read at
    or before ``at`` when given (a reading taken then may not be below it, though the car has
    driven on since); None when nothing is known."""
    last = scalar(
        conn,
        _LAST_ODOMETER_SQL,
        {"vehicle": vehicle_id, "at": "infinity" if at is None else at},
    )
    return None if last is None else float(last)


def odometer_below(
    conn: psycopg.Connection, *, vehicle_id: int, odometer_km: float, at: datetime | None = None
) -> float | None:
    """The last known odometer (``last_odometer``) when ``odometer_km`` is below it by more
    than ``ODOMETER_SLACK_KM`` (a reading that cannot be true), else None."""
    last = last_odometer(conn, vehicle_id=vehicle_id, at=at)
    return last if last is not None and odometer_km < last - ODOMETER_SLACK_KM else None
