# SPDX-License-Identifier: MIT
"""The demo world's ground for tests: shops around Chicago with slots and simulated cars with
dongles, as the demo seeds them before its drive; the world is built on them
(``wrenchlight.demo_world.build_world``) by the demo's tests and its browser test."""

from __future__ import annotations

import datetime as dt

from api.auth.users import create_user
from db.registry import create_vehicle, register_device
from orders.cities import directory_near
from orders.directory import upsert_shops
from orders.slots import open_slots
from wrenchlight.demo import CENTER_LAT, CENTER_LON, DEMO_ADMIN

# A car per story of the world and one to spare (the one left for a newcomer's claim).
FUELS = ("petrol", "electric", "diesel", "petrol", "hybrid", "petrol", "diesel")


def demo_cars(conn, fuels=FUELS) -> list[str]:
    """Shops around Chicago with slots, and simulated cars of these fuels with devices; the
    devices' ids."""
    upsert_shops(conn=conn, records=directory_near(lat=CENTER_LAT, lon=CENTER_LON, count=24))
    open_slots(conn=conn, start=dt.datetime.now(dt.UTC), days=30)
    devices = []
    for i, fuel in enumerate(fuels):
        vehicle_id = create_vehicle(
            conn,
            vin=f"1WLTEST{i:010d}",
            fuel_type=fuel,
            home_lat=CENTER_LAT + 0.01 * i,
            home_lon=CENTER_LON - 0.01 * i,
            oil_changed_odometer_km=40_000.0 + i,
            pads_measured_odometer_km=40_000.0 + i,
        )
        register_device(conn, device_id=f"sim-{i:03d}", vehicle_id=vehicle_id)
        devices.append(f"sim-{i:03d}")
    # As the demo makes its admin when the API starts: API keys only, no password yet.
    create_user(conn=conn, email=DEMO_ADMIN, role="admin")
    return devices
