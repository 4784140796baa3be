# SPDX-License-Identifier: MIT
"""The shop directory: validated import from CSV and JSON, the demo directory around real
cities, and booking slots made from opening hours."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import factories
import pytest
from orders_helpers import haversine_km
from typer.testing import CliRunner

from orders.cities import cities, demo_directory, directory_near
from orders.directory import ImportFailed, import_file, upsert_shops, validate_rows
from orders.slots import book_slot, open_slots
from wrenchlight.cli import build_app

app = build_app()

# Two shops in Berlin, every column used.
CSV = (Path(__file__).parent / "shops_sample.csv").read_text()

BAD_CSV = """ref,name,lat,lon,capabilities,hours
x-1,Good One,52.5,13.4,oil_change,mon-fri 08:00-18:00
x-2,Bad Lat,91,13.4,oil_change,
x-3,Bad Cap,52.5,13.4,oil_change;teleport,
x-4,Bad Hours,52.5,13.4,brake_pads,mon-fri 18:00-08:00
"""


def test_csv_import_validates_and_upserts(conn, tmp_path):
    path = tmp_path / "shops.csv"
    path.write_text(CSV)
    first = import_file(conn=conn, path=path)
    again = import_file(conn=conn, path=path)
    assert (first.inserted, first.updated) == (2, 0)
    assert (again.inserted, again.updated) == (0, 2)
    row = conn.execute(
        "SELECT name, capabilities, brands, hours, bays, labour_rate_per_h, rating, "
        "verification, timezone FROM shops WHERE external_ref = 'b-1'"
    ).fetchone()
    assert row[:3] == ("Becker Garage", ["oil_change", "brake_pads"], ["VW", "Audi"])
    assert row[3]["mon"] == [["08:00", "18:00"]] and row[3]["sat"] == [["09:00", "13:00"]]
    assert row[3]["sun"] == []
    assert (row[4], float(row[5]), row[6], row[7], row[8]) == (
        3,
        95.5,
        pytest.approx(4.6),
        "verified",
        "Europe/Berlin",
    )
    prices = dict(conn.execute("SELECT job_code, price::float FROM shop_prices").fetchall())
    assert prices == {"OIL-CHG": 129.0, "BRK-PAD-F": 189.9}


def test_invalid_rows_are_named_and_nothing_is_imported(conn, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV)
    with pytest.raises(ImportFailed) as info:
        import_file(conn=conn, path=path)
    by_row = {(e.row, e.field) for e in info.value.errors}
    assert by_row == {(2, "lat"), (3, "capabilities.1"), (4, "hours")}
    assert "less than or equal to 90" in str(info.value.errors[0])
    assert conn.execute("SELECT count(*) FROM shops").fetchone()[0] == 0
    partial = import_file(conn=conn, path=path, skip_invalid=True)
    assert partial.inserted == 1 and len(partial.skipped) == 3


def test_json_import_and_cli(conn, db_url, tmp_path, monkeypatch):
    path = tmp_path / "shops.json"
    shops = [
        {"ref": "j-1", "name": "Jansen", "lat": 48.1, "lon": 11.5, "capabilities": ["tyres"]},
        {"ref": "j-2", "name": "Novak", "lat": 48.2, "lon": "east", "capabilities": []},
    ]
    path.write_text(json.dumps(shops))
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["shops", "import", str(path), "--json"])
    assert result.exit_code == 1
    errors = json.loads(result.stdout.splitlines()[0])["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(2, "lon"), (2, "capabilities")}
    path.write_text(json.dumps(shops[:1]))
    result = CliRunner().invoke(app, ["shops", "import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "inserted": 1,
        "updated": 0,
        "skipped": [],
    }


def test_unknown_fields_and_time_zones_are_rejected():
    _, errors = validate_rows(
        [
            {"ref": "a", "name": "A", "lat": 1, "lon": 1, "capabilities": "oil_change", "x": 1},
            {
                "ref": "b",
                "name": "B",
                "lat": 1,
                "lon": 1,
                "capabilities": "tyres",
                "timezone": "Mars/Base",
            },
        ]
    )
    assert [(e.row, e.field) for e in errors] == [(1, "x"), (2, "timezone")]


def test_demo_directory_sits_around_real_cities_and_is_deterministic(conn):
    records = demo_directory(count=300, seed=4, countries=("DE", "FR"))
    assert records == demo_directory(count=300, seed=4, countries=("DE", "FR"))
    assert records != demo_directory(count=300, seed=5, countries=("DE", "FR"))
    known = {(c["name"], c["country"]): c for c in cities()}
    for rec in records:
        city = known[(rec.city, rec.country)]
        assert rec.country in ("DE", "FR") and rec.timezone == city["timezone"]
        assert haversine_km((rec.lat, rec.lon), (city["lat"], city["lon"])) <= 30.5
    # Drawn by population: Paris and Berlin are among the most frequent cities.
    top = {c for c, _ in Counter(r.city for r in records).most_common(3)}
    assert top & {"Paris", "Berlin"}
    result = upsert_shops(conn=conn, records=records)
    assert result.inserted == 300
    assert upsert_shops(conn=conn, records=records).updated == 300


def test_slots_follow_opening_hours_in_local_time_and_book_once(conn, tmp_path):
    path = tmp_path / "shops.csv"
    path.write_text(CSV)
    import_file(conn=conn, path=path)
    monday = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
    made = open_slots(conn=conn, start=monday, days=7, slot_h=2)
    assert open_slots(conn=conn, start=monday, days=7, slot_h=2) == 0
    # b-1: 3 bays x (5 weekdays x 5 slots of 08-18 + Saturday's 2 of 09-13);
    # b-2: 1 bay x 5 weekdays x 4 slots of 07:30-15:30 (the 15:30 slot would end after 17:00).
    assert made == 3 * (5 * 5 + 2) + 1 * 5 * 4
    first = conn.execute(
        "SELECT min(starts_at) FROM shop_slots JOIN shops USING (shop_id) "
        "WHERE external_ref = 'b-1'"
    ).fetchone()[0]
    assert first == datetime(2026, 11, 23, 7, tzinfo=UTC)  # 08:00 in Berlin (CET)
    shop_id = conn.execute("SELECT shop_id FROM shops WHERE external_ref = 'b-2'").fetchone()[0]
    vehicle = factories.vehicle(conn, vin="WLDXR000000000001")
    order_id = factories.order(conn, vehicle, issue="x", job_description="x").order_id
    slot = book_slot(
        conn=conn, shop_id=shop_id, order_id=order_id, after=monday, before=monday + timedelta(7)
    )
    assert slot.starts_at == datetime(2026, 11, 23, 6, 30, tzinfo=UTC)


def test_a_directory_near_a_point_uses_the_cities_of_its_area(conn):
    chicago = (41.8781, -87.6298)
    records = directory_near(lat=chicago[0], lon=chicago[1], count=40, radius_km=40, seed=2)
    assert records == directory_near(lat=chicago[0], lon=chicago[1], count=40, radius_km=40, seed=2)
    towns = Counter(r.city for r in records)
    assert len(towns) > 3 and towns.most_common(1)[0][0] == "Chicago"  # weighted by people
    # Every shop within the area plus its town's spread (at most 30 km).
    assert all(haversine_km(chicago, (r.lat, r.lon)) < 40 + 30 for r in records)
    assert {r.country for r in records} == {"US"}
    with pytest.raises(ValueError, match="no city"):
        directory_near(lat=0.0, lon=-30.0, count=3)  # the middle of the Atlantic


def test_a_shop_prices_in_its_countrys_currency(conn):
    from orders.cities import directory_near
    from orders.directory import ShopRecord, country_currency

    chicago = directory_near(lat=41.8781, lon=-87.6298, count=5)
    assert {s.country for s in chicago} == {"US"} and {s.currency for s in chicago} == {"USD"}
    assert [country_currency(c) for c in ("DE", "GB", "JP", None)] == ["EUR", "GBP", "JPY", "EUR"]
    given = {"ref": "x", "name": "x", "lat": 0, "lon": 0, "capabilities": ["oil_change"]}
    assert ShopRecord.model_validate({**given, "country": "CH"}).currency == "CHF"
    assert (
        ShopRecord.model_validate({**given, "country": "US", "currency": "EUR"}).currency == "EUR"
    )
