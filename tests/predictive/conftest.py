# SPDX-License-Identifier: MIT
"""A vehicle serviced at the start of the synthetic drives."""

import pytest
from drive_helpers import START

from db.registry import create_vehicle


@pytest.fixture
def vehicle(conn):
    """A vehicle serviced at START with worn-ish front pads."""
    return create_vehicle(
        conn,
        vin="WLTEST00000000001",
        home_lat=52.52,
        home_lon=13.40,
        oil_changed_at=START,
        oil_changed_odometer_km=10_000.0,
        pads_measured_at=START,
        pads_measured_odometer_km=10_000.0,
        pad_front_mm=4.75,
        pad_rear_mm=6.0,
        mass_kg=1400,
    )
