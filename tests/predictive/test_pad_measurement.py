# SPDX-License-Identifier: MIT
"""Pads measured outside an order show in the health at once, on real PostgreSQL: the
thickness becomes the brake baseline, the pad model restarts from it and raises or resolves
the pad alert of its tier; a thickness that cannot be true is refused."""

from datetime import timedelta

import pytest
from drive_helpers import START, write_drive

from predictive import BRAKE_MODEL, evaluate_vehicle, lab_results
from predictive.health import VehicleNotFound

DAY = timedelta(days=1)


def _pad_alerts(conn, vehicle):
    return conn.execute(
        "SELECT tier, status FROM alerts WHERE vehicle_id = %s AND kind = 'brake_pads' "
        "ORDER BY alert_id",
        (vehicle,),
    ).fetchall()


def test_measured_pads_are_the_baseline_at_once_and_hold_their_alert(conn, vehicle):
    write_drive(conn, vehicle, hours=1, oil_temp_c=95.0)
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + DAY)
    assert _pad_alerts(conn, vehicle) == []  # 4.75 mm less an hour's wear: still good

    pred = lab_results.record_pad_measurement(
        conn, vehicle_id=vehicle, front_mm=3.8, rear_mm=6.0, odometer_km=10_100.0, now=START + DAY
    )
    assert pred.model == BRAKE_MODEL and pred.value == pytest.approx(3.8)
    assert (
        pred.evidence["measured_front_mm"] == 3.8 and pred.evidence["km_since_pads_measured"] == 0
    )
    assert _pad_alerts(conn, vehicle) == [("change_soon", "open")]
    row = conn.execute(
        "SELECT pads_measured_at, pad_front_mm, pad_rear_mm, pads_measured_odometer_km "
        "FROM vehicles WHERE vehicle_id = %s",
        (vehicle,),
    ).fetchone()
    assert row == (START + DAY, 3.8, 6.0, 10_100.0)

    # Driving on, and evaluating later or from scratch, the model keeps the alert.
    write_drive(conn, vehicle, hours=1, oil_temp_c=95.0, start=START + 2 * DAY)
    for rebuild in (False, True):
        (later,) = [
            p
            for p in evaluate_vehicle(
                conn=conn, vehicle_id=vehicle, now=START + 3 * DAY, rebuild=rebuild
            )
            if p.model == BRAKE_MODEL
        ]
        assert 3.5 < later.value < 3.8
        assert _pad_alerts(conn, vehicle) == [("change_soon", "open")]

    # New pads measured: the alert is resolved at once.
    fresh = lab_results.record_pad_measurement(
        conn,
        vehicle_id=vehicle,
        front_mm=12.0,
        rear_mm=9.0,
        odometer_km=10_200.0,
        now=START + 4 * DAY,
    )
    assert fresh.value == pytest.approx(9.0)
    assert _pad_alerts(conn, vehicle) == [("change_soon", "resolved")]


@pytest.mark.parametrize("front, rear", [(-0.1, 6.0), (3.8, 12.5)])
def test_a_thickness_that_cannot_be_true_is_refused(conn, vehicle, front, rear):
    with pytest.raises(lab_results.PadMeasurementError, match=r"0 to 12\.0 mm"):
        lab_results.record_pad_measurement(
            conn, vehicle_id=vehicle, front_mm=front, rear_mm=rear, odometer_km=None, now=START
        )
    assert conn.execute(
        "SELECT pad_front_mm, pad_rear_mm FROM vehicles WHERE vehicle_id = %s", (vehicle,)
    ).fetchone() == (4.75, 6.0)


def test_an_odometer_below_the_last_known_reading_is_refused(conn, vehicle):
    # Pads measured at START at 10,000 km (the fixture): a later reading cannot be 9,000 km.
    with pytest.raises(
        lab_results.PadMeasurementError,
        match=r"odometer 9,000\.0 km is below the car's last known 10,000\.0 km: check the",
    ):
        lab_results.record_pad_measurement(
            conn, vehicle_id=vehicle, front_mm=8.0, rear_mm=8.0, odometer_km=9_000.0, now=START
        )
    stored = "SELECT pad_front_mm, pads_measured_odometer_km FROM vehicles WHERE vehicle_id = %s"
    assert conn.execute(stored, (vehicle,)).fetchone() == (4.75, 10_000.0)
    assert conn.execute("SELECT count(*) FROM predictions").fetchone()[0] == 0
    # A hand-read odometer rounded down by less than a km is taken.
    lab_results.record_pad_measurement(
        conn, vehicle_id=vehicle, front_mm=8.0, rear_mm=8.0, odometer_km=9_999.5, now=START + DAY
    )
    assert conn.execute(stored, (vehicle,)).fetchone() == (8.0, 9_999.5)


def test_an_unknown_vehicle_is_refused(conn):
    with pytest.raises(VehicleNotFound):
        lab_results.record_pad_measurement(
            conn, vehicle_id=999_999, front_mm=5.0, rear_mm=5.0, odometer_km=None, now=START
        )
