# SPDX-License-Identifier: MIT
"""Scored matching through the geographic index: filters, ranking, weights, breakdown."""

from datetime import UTC, datetime, timedelta

import pytest
from orders_helpers import BERLIN, haversine_km

from orders.cities import demo_directory
from orders.directory import ShopRecord, upsert_shops
from orders.matching import MatchRequest, find_candidates, match_shops
from orders.scoring import MatchWeights
from orders.slots import open_slots

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
WEEK = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def _shop(ref, lat, lon, **extra):
    base = {"ref": ref, "name": ref, "lat": lat, "lon": lon, "capabilities": ["oil_change"]}
    return ShopRecord.model_validate(base | {"hours": WEEK} | extra)


def _request(**extra):
    base = dict(
        lat=BERLIN[0],
        lon=BERLIN[1],
        capabilities=("oil_change",),
        job_codes=("OIL-CHG",),
        after=MONDAY,
        before=MONDAY + timedelta(days=3),
        radius_km=30.0,
    )
    return MatchRequest(**(base | extra))


@pytest.fixture
def directory(conn):
    upsert_shops(
        conn=conn,
        records=[
            _shop("near", 52.521, 13.41, prices={"OIL-CHG": 150}, rating=3.0, rating_count=50),
            _shop("mid", 52.55, 13.45, prices={"OIL-CHG": 90}, rating=4.9, rating_count=300),
            _shop("far", 52.70, 13.60, prices={"OIL-CHG": 60}),
            _shop("no-caps", 52.52, 13.406, capabilities=["tyres"]),
            _shop("suspended", 52.5201, 13.4051, verification="suspended"),
            _shop("weekend-only", 52.5202, 13.4052, hours={"sat": [["09:00", "13:00"]]}),
            _shop("out-of-range", 53.55, 10.0),  # Hamburg
            _shop("ev", 52.53, 13.40, capabilities=["oil_change", "ev_high_voltage"]),
        ],
    )
    open_slots(conn=conn, start=MONDAY, days=7)
    return dict(conn.execute("SELECT external_ref, shop_id FROM shops").fetchall())


def test_candidates_are_capable_free_in_time_and_in_range_nearest_first(conn, directory):
    found = find_candidates(conn=conn, request=_request())
    names = [c.name for c in found]
    assert names == ["near", "ev", "mid", "far"]
    assert [c.distance_km for c in found] == sorted(c.distance_km for c in found)
    assert found[0].distance_km == pytest.approx(haversine_km(BERLIN, (52.521, 13.41)), 1e-9)
    assert found[0].price == 150 and found[1].price is None
    ev_request = _request(capabilities=("oil_change", "ev_high_voltage"))
    ev = find_candidates(conn=conn, request=ev_request)
    assert [c.name for c in ev] == ["ev"]
    # Due before Saturday's opening: the weekend-only shop has no slot in time; after: it has.
    weekend = _request(after=MONDAY + timedelta(days=5), before=MONDAY + timedelta(days=6))
    assert [c.name for c in find_candidates(conn=conn, request=weekend)] == ["weekend-only"]
    assert [c.name for c in find_candidates(conn=conn, request=_request(limit=2))] == [
        "near",
        "ev",
    ]
    excluded = _request(exclude=(directory["near"],))
    assert "near" not in [c.name for c in find_candidates(conn=conn, request=excluded)]


def test_weights_decide_and_the_breakdown_explains(conn, directory):
    by_distance = match_shops(conn=conn, request=_request(), weights=MatchWeights(1, 0, 0, 0, 0))
    assert by_distance[0][0].name == "near"
    by_price = match_shops(conn=conn, request=_request(), weights=MatchWeights(0, 0, 0, 1, 0))
    assert by_price[0][0].name == "far"
    assert by_price[0][1]["criteria"]["price"] == 1.0
    by_quality = match_shops(conn=conn, request=_request(), weights=MatchWeights(0, 1, 0, 0, 0))
    assert by_quality[0][0].name == "mid"
    shop, breakdown = match_shops(conn=conn, request=_request())[0]
    assert set(breakdown["criteria"]) == {"distance", "quality", "response", "price", "capacity"}
    assert sum(breakdown["weights"].values()) == pytest.approx(1.0, abs=1e-3)
    assert breakdown["total"] == pytest.approx(
        sum(breakdown["weights"][k] * v for k, v in breakdown["criteria"].items()), abs=1e-3
    )
    assert breakdown["inputs"]["distance_km"] == pytest.approx(shop.distance_km, abs=1e-3)
    with pytest.raises(ValueError):
        MatchWeights(0, 0, 0, 0, 0).normalised()


def test_index_agrees_with_brute_force_on_a_demo_directory(conn):
    records = demo_directory(count=400, seed=2, countries=("DE",))
    upsert_shops(conn=conn, records=records)
    open_slots(conn=conn, start=MONDAY, days=2, slot_h=4)
    rows = conn.execute(
        "SELECT shop_id, lat, lon, capabilities, verification FROM shops "
        "WHERE EXISTS (SELECT 1 FROM shop_slots WHERE shop_slots.shop_id = shops.shop_id)"
    ).fetchall()
    for point in [(52.52, 13.40), (48.14, 11.58), (50.94, 6.96), (51.0, 10.0)]:
        request = _request(
            lat=point[0], lon=point[1], capabilities=("brake_pads",), radius_km=40, limit=15
        )
        expected = sorted(
            (haversine_km(point, (r[1], r[2])), r[0])
            for r in rows
            if "brake_pads" in r[3] and r[4] != "suspended"
        )
        expected = [sid for km, sid in expected if km <= 40][:15]
        assert [c.shop_id for c in find_candidates(conn=conn, request=request)] == expected
