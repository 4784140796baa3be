# SPDX-License-Identifier: MIT
"""predictive.mass: a vehicle's mass from its registration, and what it does to the pad
prediction in production's evaluator (issue 19, item 5)."""

from datetime import timedelta

import pytest
from drive_helpers import START, write_drive

from db.registry import create_vehicle
from predictive import BRAKE_MODEL, evaluate_vehicle, learned, mass
from predictive.mass import BODY_CLASSES, REGISTERED_REL_SD, UNKNOWN, vehicle_mass


def test_a_registered_mass_is_used_as_given_with_a_small_spread():
    got = vehicle_mass(registered_kg=1873.0, body_type="small", fuel_type="electric")
    assert got == mass.VehicleMass(1873.0, REGISTERED_REL_SD, "registered")


@pytest.mark.parametrize("body", list(BODY_CLASSES))
def test_a_body_type_gives_its_class_default_and_spread(body):
    cls = BODY_CLASSES[body]
    got = vehicle_mass(registered_kg=None, body_type=body, fuel_type="petrol")
    assert got.source == "body_type" and got.mass_kg == cls.default_kg
    assert cls.low_kg < got.mass_kg < cls.high_kg
    assert REGISTERED_REL_SD < got.rel_sd < UNKNOWN.rel_sd


def test_a_battery_adds_to_the_class_default_not_to_a_registered_mass():
    petrol = vehicle_mass(registered_kg=None, body_type="compact", fuel_type="petrol")
    ev = vehicle_mass(registered_kg=None, body_type="compact", fuel_type="electric")
    hybrid = vehicle_mass(registered_kg=None, body_type="compact", fuel_type="hybrid")
    assert ev.mass_kg == pytest.approx(1.2 * petrol.mass_kg, abs=10)
    assert petrol.mass_kg < hybrid.mass_kg < ev.mass_kg
    assert vehicle_mass(registered_kg=1500, body_type=None, fuel_type="electric").mass_kg == 1500


@pytest.mark.parametrize("body", [None, "", "limousine"])
def test_nothing_known_is_the_wide_unknown_default(body):
    got = vehicle_mass(registered_kg=None, body_type=body)
    assert got == mass.VehicleMass(UNKNOWN.default_kg, UNKNOWN.rel_sd, "unknown")
    assert 0.2 < got.rel_sd < 0.35 and 1_400 <= got.mass_kg <= 1_700


def test_class_figures_are_their_ranges_geometric_middle_and_log_width():
    suv = BODY_CLASSES["suv"]
    assert suv.default_kg == round((1_450 * 2_400) ** 0.5, -1)
    assert suv.rel_sd == pytest.approx(0.153, abs=0.001)  # ln(2400/1450) / 3.29
    assert tuple(BODY_CLASSES) == mass.BODY_TYPES


def test_the_mass_spread_adds_in_quadrature_to_the_pad_priors():
    assert learned.pad_wear_rel_sd(0.0) == pytest.approx(learned.PRIOR_REL_SD)
    assert learned.pad_wear_rel_sd(0.2) == pytest.approx((0.15**2 + 0.2**2) ** 0.5)


def _pads(conn, vin, **registration):
    vehicle = create_vehicle(
        conn,
        vin=vin,
        oil_changed_at=START,
        pads_measured_at=START,
        pad_front_mm=8.0,
        pad_rear_mm=9.0,
        **registration,
    )
    write_drive(conn, vehicle, hours=6)
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=7))
    found = evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=7))
    row = conn.execute(
        "SELECT evidence FROM predictions WHERE vehicle_id = %s AND model = %s "
        "ORDER BY prediction_id DESC LIMIT 1",
        (vehicle, BRAKE_MODEL),
    ).fetchone()
    assert found == [] or found
    return row[0]


def test_the_evaluator_uses_the_registered_mass_and_its_spread(conn):
    light = _pads(conn, "WLMASS00000000001", mass_kg=1200)
    heavy = _pads(conn, "WLMASS00000000002", mass_kg=2400)
    assert light["mass_kg"] == 1200 and light["mass_source"] == "registered"
    # Twice the mass, at least twice the braking energy and the wear since the measurement
    # (a little more: drag, which does not grow with mass, takes a smaller share of it).
    worn_light = 8.0 - light["pad_front_mm"]
    worn_heavy = 8.0 - heavy["pad_front_mm"]
    assert worn_light > 0.1
    assert 1.98 * worn_light <= worn_heavy <= 2.3 * worn_light
    ratio = heavy["braking_energy_mj"] / light["braking_energy_mj"]
    assert 2.0 <= ratio <= 2.3
    low, high = light["pad_band_mm"]
    assert low < light["pad_front_mm"] < high


def test_an_unknown_mass_widens_the_pad_band(conn):
    registered = _pads(conn, "WLMASS00000000003", mass_kg=UNKNOWN.default_kg)
    by_body = _pads(conn, "WLMASS00000000004", body_type="compact")
    unknown = _pads(conn, "WLMASS00000000005")
    assert unknown["mass_source"] == "unknown" and unknown["mass_kg"] == UNKNOWN.default_kg
    assert by_body["mass_source"] == "body_type"
    # Same mass, same prediction; only how sure it is differs.
    assert unknown["pad_front_mm"] == pytest.approx(registered["pad_front_mm"], abs=0.01)

    def width(e):
        return e["pad_band_mm"][1] - e["pad_band_mm"][0]

    assert width(unknown) > 1.5 * width(registered)
    assert unknown["wear_rel_sd"] == pytest.approx(learned.pad_wear_rel_sd(UNKNOWN.rel_sd), 1e-3)
    assert registered["wear_rel_sd"] < by_body["wear_rel_sd"] < unknown["wear_rel_sd"]


def test_a_new_registered_mass_rebuilds_the_pad_totals(conn):
    before = _pads(conn, "WLMASS00000000006")
    vehicle = conn.execute("SELECT vehicle_id FROM vehicles WHERE vin = 'WLMASS00000000006'")
    vid = vehicle.fetchone()[0]
    conn.execute("UPDATE vehicles SET mass_kg = 3100 WHERE vehicle_id = %s", (vid,))
    write_drive(conn, vid, hours=1, start=START + timedelta(hours=7))
    evaluate_vehicle(conn=conn, vehicle_id=vid, now=START + timedelta(hours=9))
    after = conn.execute(
        "SELECT evidence FROM predictions WHERE vehicle_id = %s AND model = %s "
        "ORDER BY prediction_id DESC LIMIT 1",
        (vid, BRAKE_MODEL),
    ).fetchone()[0]
    assert after["mass_kg"] == 3100
    # All seven hours at the new mass, not six at the old one and one at the new.
    scale = 3100 / before["mass_kg"] * 7 / 6
    assert after["braking_energy_mj"] == pytest.approx(
        before["braking_energy_mj"] * scale, rel=0.05
    )
