# SPDX-License-Identifier: MIT
"""A lab's oil analysis posted through the API shows in the vehicle's health at once, with its
alert, on real PostgreSQL (the app's clock throughout: times relative to now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
from api_helpers import make_caller


def test_a_recorded_analysis_shows_in_the_health_at_once(conn, client):
    owner = make_caller(conn, "owner")
    vehicle_id = factories.vehicle(
        conn,
        vin="WLT00000000000843",
        owner_user_id=owner.user_id,
        oil_changed_at=datetime.now(UTC) - timedelta(days=60),
        oil_changed_odometer_km=41000,
    ).vehicle_id
    client.headers.update(owner.headers)
    sampled = datetime.now(UTC) - timedelta(hours=1)
    body = {"sampled_at": sampled.isoformat(), "drained": False, "life_left_pct": 3.0}
    res = client.post(f"/vehicles/{vehicle_id}/oil-analyses", json=body)
    assert res.status_code == 201, res.text

    oil = client.get(f"/vehicles/{vehicle_id}/health").json()["oil"]
    assert oil is not None
    # The band says what the alert's tier says (at 3 % the oil is due now).
    assert (oil["oil_life_pct"], oil["oil_analyses"], oil["band"]) == (3.0, 1, "due_now")
    alerts = client.get(f"/vehicles/{vehicle_id}/health").json()["open_alerts"]
    assert [(a["kind"], a["tier"]) for a in alerts] == [("oil_change", "due_now")]

    # A later sample with plenty of life left resolves the alert at once.
    body = {**body, "sampled_at": datetime.now(UTC).isoformat(), "life_left_pct": 70.0}
    assert client.post(f"/vehicles/{vehicle_id}/oil-analyses", json=body).status_code == 201
    health = client.get(f"/vehicles/{vehicle_id}/health").json()
    assert health["oil"]["oil_life_pct"] == 70.0 and health["open_alerts"] == []


def test_an_analysis_that_cannot_be_true_is_a_problem_and_stores_nothing(conn, client):
    owner = make_caller(conn, "owner")
    changed = datetime.now(UTC) - timedelta(days=10)
    vehicle_id = factories.vehicle(
        conn,
        vin="WLT00000000000844",
        owner_user_id=owner.user_id,
        oil_changed_at=changed,
        oil_changed_odometer_km=41000,
    ).vehicle_id
    client.headers.update(owner.headers)
    body = {
        "sampled_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "drained": False,
        "life_left_pct": 80.0,
    }
    for bad, why in (
        ({"sampled_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "after now"),
        (
            {"sampled_at": (changed - timedelta(days=1)).isoformat()},
            "before the last oil change",
        ),
        ({"odometer_km": 400.0}, "below the 41,000.0 km"),
    ):
        res = client.post(f"/vehicles/{vehicle_id}/oil-analyses", json={**body, **bad})
        assert res.status_code == 422, res.text
        assert res.headers["content-type"].startswith("application/problem+json")
        problem = res.json()
        assert problem["type"].endswith("invalid-oil-analysis") and why in problem["detail"]
    assert client.get(f"/vehicles/{vehicle_id}/oil-analyses").json()["items"] == []
    oil = client.get(f"/vehicles/{vehicle_id}/health").json()["oil"]
    assert oil is None or oil["oil_analyses"] == 0
