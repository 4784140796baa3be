# SPDX-License-Identifier: MIT
"""The seeded shop directory and nearest-shop matching."""

import re

import factories
import pytest
from orders_helpers import BERLIN, haversine_km

from orders import CATALOGUE, generate_shops, job_for, nearest_shop, nearest_shops, seed_shops
from orders.shops import CAPABILITIES, RADIUS_KM


def test_seed_shops_is_deterministic_and_idempotent(conn):
    first = seed_shops(conn=conn, center_lat=BERLIN[0], center_lon=BERLIN[1])
    again = seed_shops(conn=conn, center_lat=BERLIN[0], center_lon=BERLIN[1])
    assert first == again and len(first) == 12
    assert conn.execute("SELECT count(*) FROM shops").fetchone()[0] == 12
    rows = conn.execute("SELECT name, phone, lat, lon, capabilities, hours FROM shops").fetchall()
    assert len({r[0] for r in rows}) == 12
    for _, phone, lat, lon, caps, hours in rows:
        assert phone.startswith("+1 555-01")
        assert haversine_km(BERLIN, (lat, lon)) <= RADIUS_KM + 0.01
        assert caps and set(caps) <= set(CAPABILITIES)
        assert hours["sun"] == [] and len(hours["mon"][0]) == 2
    other = generate_shops(center_lat=BERLIN[0], center_lon=BERLIN[1], seed=1)
    assert [s["lat"] for s in other] != [r[2] for r in rows]


def test_nearest_shop_agrees_with_brute_force(conn):
    seed_shops(conn=conn, center_lat=BERLIN[0], center_lon=BERLIN[1], count=40, seed=3)
    shops = conn.execute("SELECT shop_id, lat, lon, capabilities FROM shops").fetchall()
    for point in [(52.45, 13.30), (52.60, 13.50), BERLIN]:
        for capability in CAPABILITIES:
            expected = min(
                (haversine_km(point, (r[1], r[2])), r[0]) for r in shops if capability in r[3]
            )
            match = nearest_shop(conn=conn, lat=point[0], lon=point[1], capability=capability)
            assert (match.shop_id, match.distance_km) == (
                expected[1],
                pytest.approx(expected[0], abs=1e-6),
            )
    ranked = nearest_shops(conn=conn, lat=BERLIN[0], lon=BERLIN[1], capability="tyres", limit=5)
    assert [m.distance_km for m in ranked] == sorted(m.distance_km for m in ranked)


def test_great_circle_distance_berlin_paris(conn):
    factories.shop(conn, name="Paris", lat=48.8566, lon=2.3522, capabilities=["tyres"])
    match = nearest_shop(conn=conn, lat=BERLIN[0], lon=BERLIN[1], capability="tyres")
    assert match.distance_km == pytest.approx(878, abs=2)  # published figure: ~878 km
    assert nearest_shop(conn=conn, lat=0, lon=0, capability="oil_change") is None


def test_job_catalogue_covers_every_alert_kind(conn):
    # The kinds the alerts table accepts, read from its check constraint.
    check = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'alerts_kind_check'"
    ).fetchone()[0]
    kinds = set(re.findall(r"'(\w+)'", check))
    assert set(CATALOGUE) == kinds == {"oil_change", "brake_pads", "trouble_code", "oil_sample"}
    sample = job_for("oil_sample")
    assert sample.capability == "oil_change" and sample.job_code == "OIL-SMPL"
    oil = job_for("oil_change")
    assert oil.capability == "oil_change"
    assert {p["code"] for p in oil.parts_json()} >= {"OIL-5W30-SYN", "FLT-OIL"}
    assert job_for("brake_pads", {"pad_front_mm": 5.0, "pad_rear_mm": 3.5}).job_code == "BRK-PAD-R"
    assert job_for("brake_pads", {"pad_front_mm": 3.5, "pad_rear_mm": 5.0}).job_code == "BRK-PAD-F"
