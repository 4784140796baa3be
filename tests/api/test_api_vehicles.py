# SPDX-License-Identifier: MIT
"""GET /vehicles/{id}/health and /healthz on the real database."""

from datetime import UTC, datetime

import factories
import pytest

from db.registry import create_vehicle

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _predict(conn, vehicle_id, model, value, unit, remaining_km, evidence):
    return factories.prediction(
        conn,
        vehicle_id,
        model=model,
        value=value,
        unit=unit,
        time=NOW,
        remaining_km=remaining_km,
        evidence=evidence,
    ).prediction_id


def test_health_of_a_seeded_vehicle(conn, admin_client):
    vehicle_id = create_vehicle(conn, vin="WLAP1000000000001")
    factories.vehicle_state(
        conn,
        vehicle_id,
        last_seen=NOW,
        odometer_km=48213.4,
        latest={"speed_kmh": 0.0, "coolant_temp_c": 88.0},
    )
    _predict(conn, vehicle_id, "oil_life", 80.0, "%", 9000, {})  # superseded below
    oil_id = _predict(conn, vehicle_id, "oil_life", 14.2, "%", 610.0, {"state": {}})
    _predict(
        conn,
        vehicle_id,
        "brake_pads",
        6.1,
        "mm",
        19800.0,
        {"pad_front_mm": 6.1, "pad_rear_mm": 8.3},
    )
    factories.alert(
        conn,
        vehicle_id,
        message="Oil life 14 %, about 600 km left",
        prediction_id=oil_id,
        tier="change_soon",
        evidence={"oil_life_pct": 14.2, "km_per_day": 41.0},
    )
    factories.alert(conn, vehicle_id, kind="brake_pads", message="old", status="resolved")

    response = admin_client.get(f"/vehicles/{vehicle_id}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["vin"] == "WLAP1000000000001" and body["odometer_km"] == 48213.4
    assert datetime.fromisoformat(body["last_seen"]) == NOW
    # Physics only: no learned band, no projection in this evidence, nothing calibrated.
    assert body["oil"] == {
        "oil_life_pct": 14.2,
        "remaining_km": 610.0,
        "band": "due_soon",
        "as_of": body["oil"]["as_of"],
        "life_band_pct": None,
        "projection": {},
        "oil_analyses": 0,
        "sample_due": False,
    }
    assert body["brake_pads"]["pad_rear_mm"] == 8.3 and body["brake_pads"]["band"] == "good"
    assert [a["message"] for a in body["open_alerts"]] == ["Oil life 14 %, about 600 km left"]
    assert body["open_alerts"][0]["tier"] == "change_soon"
    assert body["open_alerts"][0]["evidence"] == {"oil_life_pct": 14.2, "km_per_day": 41.0}
    assert body["latest"] == {"speed_kmh": 0.0, "coolant_temp_c": 88.0}


def test_health_shows_the_learned_band_projections_and_calibration(conn, admin_client):
    vehicle_id = create_vehicle(conn, vin="WLAP1000000000003")
    projection = {
        tier: {"threshold": level, "km": km, "date": "2026-12-01T00:00:00+00:00", "reached": False}
        for tier, level, km in (("change_soon", 15.0, 900.0), ("due_now", 5.0, 1500.0))
    }
    learned = {"band_pct": [38.5, 47.0], "oil_analyses": 1, "sample_due": True}
    _predict(
        conn,
        vehicle_id,
        "oil_life",
        42.0,
        "%",
        1700.0,
        {"state": {}, "projection": projection, "learned": learned},
    )
    oil = admin_client.get(f"/vehicles/{vehicle_id}/health").json()["oil"]
    assert oil["life_band_pct"] == [38.5, 47.0]
    assert oil["projection"]["due_now"]["km"] == 1500.0
    assert oil["projection"]["change_soon"]["threshold"] == 15.0
    assert datetime.fromisoformat(oil["projection"]["due_now"]["date"]).year == 2026
    assert (oil["oil_analyses"], oil["sample_due"]) == (1, True)


def test_health_before_any_data(conn, admin_client):
    vehicle_id = create_vehicle(conn, vin="WLAP1000000000002")
    body = admin_client.get(f"/vehicles/{vehicle_id}/health").json()
    assert body["oil"] is None and body["brake_pads"] is None and body["last_seen"] is None
    assert body["open_alerts"] == [] and body["latest"] == {}


def test_unknown_vehicle_is_a_problem_details_404(admin_client):
    response = admin_client.get("/vehicles/4242/health")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "/problems/vehicle-not-found",
        "title": "Vehicle not found",
        "status": 404,
        "detail": "No vehicle with id 4242.",
        "instance": "/vehicles/4242/health",
    }


@pytest.mark.parametrize("bad", ["abc", "0", "-3"])
def test_bad_vehicle_id_is_a_422_problem(admin_client, bad):
    response = admin_client.get(f"/vehicles/{bad}/health")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["vehicle_id"]


def test_healthz_and_openapi(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    spec = client.get("/openapi.json").json()
    health = spec["paths"]["/vehicles/{vehicle_id}/health"]["get"]["responses"]
    assert "application/problem+json" in health["404"]["content"]
    assert spec["components"]["schemas"]["VehicleHealth"]["examples"]
    assert set(spec["components"]["securitySchemes"]) == {"OAuth2PasswordBearer", "APIKeyHeader"}
    assert "401" in health and "security" in spec["paths"]["/vehicles/{vehicle_id}/health"]["get"]
    assert client.get("/docs").status_code == 200
