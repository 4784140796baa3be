# SPDX-License-Identifier: MIT
"""Telemetry series from the rollups, prediction, alert and oil-analysis histories with
cursors, and the fleet health table, its CSV and KPIs, through the real app on real
PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import factories
import psycopg
import pytest
from api_helpers import make_caller

from db.timescale import has_timescaledb

START = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def _fleet(conn: psycopg.Connection, name: str) -> int:
    return factories.fleet(conn, name=name).fleet_id


def _vehicle(conn: psycopg.Connection, vin: str, fleet_id: int | None = None) -> int:
    return factories.vehicle(conn, vin=vin, fleet_id=fleet_id, make="Sim", model="One").vehicle_id


def _prediction(conn, vehicle_id, model, value, *, at=START, evidence=None, remaining=1000.0):
    factories.prediction(
        conn,
        vehicle_id,
        model=model,
        value=value,
        time=at,
        model_version="test-1",
        remaining_km=remaining,
        evidence=evidence or {"state": {"x": 1}},
    )


def _refresh_rollups(conn: psycopg.Connection) -> None:
    if has_timescaledb(conn):
        for view in ("readings_1m", "readings_1h"):
            conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
    else:
        conn.execute("SELECT wl_refresh_rollups('-infinity', 'infinity')")


@pytest.fixture
def driven(conn) -> int:
    """A vehicle with two hours of speed every 10 s (speed = minute of the drive) and rpm every
    30 s, rolled up."""
    vehicle_id = _vehicle(conn, "WLT00000000000001")
    conn.execute(
        "INSERT INTO readings (time, vehicle_id, speed_kmh, engine_rpm) "
        "SELECT %s + s * INTERVAL '10 seconds', %s, floor(s / 6.0), "
        "CASE WHEN s %% 3 = 0 THEN 2000 + s END FROM generate_series(0, 719) AS s",
        (START, vehicle_id),
    )
    _refresh_rollups(conn)
    return vehicle_id


def _series(admin_client, vehicle_id, **params):
    return admin_client.get(f"/vehicles/{vehicle_id}/telemetry", params=params)


def test_a_series_per_bucket_matches_the_readings(admin_client, driven):
    window = {"start": START.isoformat(), "end": (START + timedelta(hours=2)).isoformat()}
    minutes = _series(admin_client, driven, signal="speed_kmh", bucket="1m", **window).json()
    assert minutes["unit"] == "km/h" and len(minutes["points"]) == 120
    assert [p["avg"] for p in minutes["points"]] == [float(m) for m in range(120)]
    assert {p["n"] for p in minutes["points"]} == {6}
    hours = _series(admin_client, driven, signal="speed_kmh", bucket="1h", **window).json()[
        "points"
    ]
    assert [(p["n"], p["min"], p["max"], p["avg"]) for p in hours] == [
        (360, 0.0, 59.0, 29.5),
        (360, 60.0, 119.0, 89.5),
    ]
    [day] = _series(admin_client, driven, signal="speed_kmh", bucket="1d", **window).json()[
        "points"
    ]
    assert (day["n"], day["avg"]) == (720, pytest.approx(59.5))
    raw = _series(admin_client, driven, signal="engine_rpm", bucket="raw", **window).json()[
        "points"
    ]
    assert len(raw) == 240 and raw[1]["avg"] == 2003.0 and raw[1]["n"] == 1
    empty = _series(admin_client, driven, signal="oil_temp_c", bucket="1h", **window).json()
    assert empty["points"] == []


def test_series_requests_out_of_bounds_get_problems(admin_client, driven):
    too_long = _series(
        admin_client,
        driven,
        signal="speed_kmh",
        bucket="raw",
        start=START.isoformat(),
        end=(START + timedelta(days=2)).isoformat(),
    )
    assert too_long.status_code == 400
    assert too_long.json()["type"].endswith("range-too-long")
    backwards = _series(
        admin_client, driven, signal="speed_kmh", start=START.isoformat(), end=START.isoformat()
    )
    assert backwards.status_code == 400
    naive = _series(admin_client, driven, signal="speed_kmh", start="2026-11-20T06:00:00")
    assert naive.status_code == 400 and naive.json()["type"].endswith("naive-time")
    assert _series(admin_client, driven, signal="warp_factor").status_code == 422
    missing = _series(admin_client, 999_999, signal="speed_kmh")
    assert missing.status_code == 404 and missing.json()["type"].endswith("vehicle-not-found")


def test_prediction_and_alert_histories_page_with_cursors(admin_client, conn):
    vehicle_id = _vehicle(conn, "WLT00000000000002")
    for i in range(5):
        _prediction(conn, vehicle_id, "oil_life", 90.0 - i, at=START + timedelta(hours=i))
    _prediction(conn, vehicle_id, "brake_pads", 9.0)
    seen, cursor = [], None
    while True:
        params = {"model": "oil_life", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = admin_client.get(f"/vehicles/{vehicle_id}/predictions", params=params).json()
        seen += [p["value"] for p in page["items"]]
        assert all("state" not in p["evidence"] for p in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [86.0, 87.0, 88.0, 89.0, 90.0]
    bad = admin_client.get(f"/vehicles/{vehicle_id}/predictions", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["type"].endswith("invalid-cursor")
    factories.alert(
        conn, vehicle_id, message="old", status="resolved", resolved_at=factories.DB_NOW
    )
    factories.alert(conn, vehicle_id, message="new")
    alerts = admin_client.get(f"/vehicles/{vehicle_id}/alerts").json()["items"]
    assert [(a["message"], a["status"]) for a in alerts] == [("new", "open"), ("old", "resolved")]
    resolved = admin_client.get(f"/vehicles/{vehicle_id}/alerts", params={"status": "resolved"})
    assert [a["message"] for a in resolved.json()["items"]] == ["old"]
    assert admin_client.get(f"/vehicles/{vehicle_id}/service-history").json() == {
        "items": [],
        "next_cursor": None,
    }


@pytest.fixture
def fleet(conn) -> dict[str, int]:
    """A fleet of five vehicles, one in each state, and another fleet's vehicle."""
    fleet_id = _fleet(conn, "depot")
    other = _fleet(conn, "elsewhere")
    ids = {"fleet": fleet_id, "other_fleet": other}
    for i, name in enumerate(("overdue", "due_soon", "codes", "offline", "ok")):
        ids[name] = _vehicle(conn, f"WLF0000000000000{i}", fleet_id)
    ids["foreign"] = _vehicle(conn, "WLF00000000000009", other)
    fresh = datetime.now(UTC) - timedelta(minutes=5)
    for name in ("overdue", "due_soon", "codes", "ok", "foreign"):
        factories.vehicle_state(conn, ids[name], last_seen=fresh, odometer_km=1000)
    factories.vehicle_state(conn, ids["offline"], last_seen=fresh - timedelta(days=3))
    _prediction(conn, ids["overdue"], "oil_life", 0.0)
    _prediction(conn, ids["due_soon"], "oil_life", 60.0)
    _prediction(
        conn, ids["due_soon"], "brake_pads", 3.8, evidence={"pad_front_mm": 3.8, "pad_rear_mm": 7}
    )
    _prediction(conn, ids["ok"], "oil_life", 80.0)
    _prediction(conn, ids["foreign"], "oil_life", 0.0)
    factories.trouble_codes(conn, ids["codes"], stored=["P0301"], pending=["P0420"])
    return ids


def test_the_fleet_health_table_shows_each_vehicles_worst_state(admin_client, fleet):
    rows = admin_client.get(f"/fleets/{fleet['fleet']}/health").json()["items"]
    by_id = {r["vehicle_id"]: r for r in rows}
    assert fleet["foreign"] not in by_id
    assert {
        name: by_id[fleet[name]]["status"]
        for name in ("overdue", "due_soon", "codes", "offline", "ok")
    } == {
        "overdue": "overdue",
        "due_soon": "due_soon",
        "codes": "trouble_codes",
        "offline": "offline",
        "ok": "ok",
    }
    assert by_id[fleet["codes"]]["trouble_codes"] == ["P0301", "P0420"]
    assert by_id[fleet["due_soon"]]["pad_front_mm"] == 3.8
    only = admin_client.get(f"/fleets/{fleet['fleet']}/health", params={"status": "offline"}).json()
    assert [r["vehicle_id"] for r in only["items"]] == [fleet["offline"]]
    first = admin_client.get(f"/fleets/{fleet['fleet']}/health", params={"limit": 3}).json()
    rest = admin_client.get(
        f"/fleets/{fleet['fleet']}/health", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert [r["vehicle_id"] for r in first["items"] + rest["items"]] == sorted(by_id)
    assert rest["next_cursor"] is None
    assert admin_client.get("/fleets/999999/health").status_code == 404


def test_the_fleet_csv_and_kpis_agree_with_the_table(admin_client, fleet):
    response = admin_client.get(f"/fleets/{fleet['fleet']}/health.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert len(table) == 5
    assert {r["status"] for r in table} == {"overdue", "due_soon", "trouble_codes", "offline", "ok"}
    kpis = admin_client.get(f"/fleets/{fleet['fleet']}/kpis").json()
    assert (kpis["vehicles"], kpis["overdue"], kpis["due_soon"], kpis["offline"]) == (5, 1, 1, 1)
    assert kpis["with_trouble_codes"] == 1 and kpis["services_completed"] == 0
    assert kpis["on_time_service_rate"] is None and kpis["maintenance_cost"] == {}


def test_oil_analyses_are_recorded_against_the_fleet_model_and_listed(conn, client):
    owner = make_caller(conn, "owner")
    vehicle_id = _vehicle(conn, "WLT00000000000077")
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s WHERE vehicle_id = %s", (owner.user_id, vehicle_id)
    )
    _prediction(
        conn,
        vehicle_id,
        "oil_life",
        52.0,
        at=START - timedelta(hours=1),
        evidence={"learned": {"fleet_consumed_pct": 47.5}, "state": {}},
    )
    client.headers.update(owner.headers)
    body = {
        "sampled_at": START.isoformat(),
        "drained": False,
        "life_left_pct": 46.0,
        "sd_pct": 3.0,
        "lab": "Lakeside Oil Lab",
    }
    res = client.post(f"/vehicles/{vehicle_id}/oil-analyses", json=body)
    assert res.status_code == 201, res.text
    stored = res.json()
    assert stored["predicted_consumed_pct"] == 47.5 and stored["prediction_id"] is not None
    assert stored["recorded_by"] == f"user:{owner.user_id}" and stored["odometer_km"] is None
    # A second one, drained at the change, with the lab's default uncertainty (dated before
    # now: a sample from the future is refused).
    later = {**body, "sampled_at": (START + timedelta(days=10)).isoformat(), "drained": True}
    del later["sd_pct"]
    assert client.post(f"/vehicles/{vehicle_id}/oil-analyses", json=later).status_code == 201
    page = client.get(f"/vehicles/{vehicle_id}/oil-analyses", params={"limit": 1}).json()
    assert [a["drained"] for a in page["items"]] == [True] and page["items"][0]["sd_pct"] == 5.0
    rest = client.get(
        f"/vehicles/{vehicle_id}/oil-analyses", params={"cursor": page["next_cursor"]}
    ).json()
    assert [a["analysis_id"] for a in rest["items"]] == [stored["analysis_id"]]

    # Impossible figures, a time without its zone and unknown fields are 422s that say why.
    for bad, word in (
        ({**body, "life_left_pct": 120}, "life_left_pct"),
        ({**body, "sd_pct": -1}, "sd_pct"),
        ({**body, "sampled_at": "2026-11-20T06:00:00"}, "sampled_at"),
        ({**body, "viscosity": 11.2}, "viscosity"),
    ):
        res = client.post(f"/vehicles/{vehicle_id}/oil-analyses", json=bad)
        assert res.status_code == 422 and word in res.text, res.text
    assert (
        conn.execute(
            "SELECT count(*) FROM oil_analyses WHERE vehicle_id = %s", (vehicle_id,)
        ).fetchone()[0]
        == 2
    )
