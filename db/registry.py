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
