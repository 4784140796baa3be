# SPDX-License-Identifier: MIT
"""A shop's view of a car is its jobs' (issue 15, finding 8): of the health, the components
of the orders it is working on and their open alerts; of the registration, the car without
its holder. The car's side (owner, fleet manager) and admins still see all of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
from api_helpers import Caller, make_caller

VIN = "WLJBVW00000000001"
# The owner's home: a shop must never learn where the car sleeps.
HOME = (52.5200066, 13.4049540)
ALL = ["brake_pads", "oil", "trouble_codes"]


def _shop(conn, name: str) -> int:
    return factories.shop(conn, name=name).shop_id


def _car(conn) -> tuple[int, Caller, int]:
    """A fleet car with an owner, a home, oil and pad predictions, and an open alert of each
    kind; (vehicle_id, its owner, fleet id)."""
    now = datetime.now(UTC)
    fleet = factories.fleet(conn, name="Lakeside").fleet_id
    owner = make_caller(conn, "owner")
    car = factories.vehicle(
        conn,
        vin=VIN,
        make="Volkswagen",
        model="Golf",
        model_year=2019,
        owner_user_id=owner.user_id,
        fleet_id=fleet,
        vin_proven=True,
        home=HOME,
    ).vehicle_id
    factories.vehicle_state(
        conn,
        car,
        last_seen=now - timedelta(minutes=5),
        odometer_km=48213.4,
        latest={"speed_kmh": 0.0, "coolant_temp_c": 88.0},
    )
    for model, value, evidence in (
        ("oil_life", 12.0, {}),
        ("brake_pads", 3.4, {"pad_front_mm": 3.4, "pad_rear_mm": 7.9}),
    ):
        factories.prediction(
            conn,
            car,
            model=model,
            value=value,
            time=now - timedelta(minutes=4),
            model_version="test-1",
            remaining_km=640,
            evidence=evidence,
        )
    for kind, tier, message, evidence in (
        ("oil_change", "due_now", "Oil life 12 %", {}),
        ("oil_sample", "sample", "Have the oil analysed", {}),
        ("brake_pads", "due_now", "Front pads 3.4 mm", {}),
        ("trouble_code", "high", "P0301 cylinder 1 misfire", {"codes": [{"code": "P0301"}]}),
    ):
        factories.alert(conn, car, kind=kind, message=message, tier=tier, evidence=evidence)
    return car, owner, fleet


def _order(
    conn, car: int, shop: int, component: str, status: str = "accepted", bundle: int | None = None
) -> int:
    job = {"oil_change": "OIL-CHG", "brake_pads": "BRK-PAD-F", "trouble_code": "DIAG"}
    return factories.order(
        conn,
        factories.Vehicle(car, VIN),
        shop_id=shop,
        status=status,
        issue=component,
        job_code=job[component],
        job_description="job",
        component=component,
        bundle_id=bundle,
    ).order_id


def _health(client, car: int, headers: dict) -> dict:
    response = client.get(f"/vehicles/{car}/health", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _kinds(health: dict) -> set[str]:
    return {a["kind"] for a in health["open_alerts"]}


def test_a_shop_with_an_oil_job_sees_the_oil_only(client, conn):
    car, _, _ = _car(conn)
    oil_shop, pad_shop = _shop(conn, "Oil Shop"), _shop(conn, "Pad Shop")
    _order(conn, car, oil_shop, "oil_change")
    # Another shop's pad job, and the oil shop's own earlier diagnosis, finished: neither is
    # the oil shop's work now.
    _order(conn, car, pad_shop, "brake_pads")
    _order(conn, car, oil_shop, "trouble_code", status="completed")

    health = _health(client, car, make_caller(conn, "shop_staff", shop_id=oil_shop).headers)
    assert (health["scope"], health["components"]) == ("job", ["oil"])
    assert (health["vin"], health["odometer_km"]) == (VIN, 48213.4)
    assert health["last_seen"] is not None
    assert health["oil"]["oil_life_pct"] == 12.0
    assert health["brake_pads"] is None
    assert _kinds(health) == {"oil_change", "oil_sample"}
    assert "P0301" not in str(health) and health["latest"] == {}

    pads = _health(client, car, make_caller(conn, "shop_staff", shop_id=pad_shop).headers)
    assert (pads["scope"], pads["components"]) == ("job", ["brake_pads"])
    assert pads["oil"] is None and pads["brake_pads"]["pad_front_mm"] == 3.4
    assert _kinds(pads) == {"brake_pads"}


def test_a_bundled_visit_shows_each_of_its_jobs(client, conn):
    car, _, _ = _car(conn)
    shop = _shop(conn, "One Visit Garage")
    lead = _order(conn, car, shop, "oil_change", status="scheduled")
    _order(conn, car, shop, "brake_pads", status="scheduled", bundle=lead)

    health = _health(client, car, make_caller(conn, "shop_staff", shop_id=shop).headers)
    assert (health["scope"], health["components"]) == ("job", ["brake_pads", "oil"])
    assert health["oil"] is not None and health["brake_pads"] is not None
    assert _kinds(health) == {"oil_change", "oil_sample", "brake_pads"}
    assert "P0301" not in str(health)


def test_the_cars_side_and_admins_see_all_of_it_while_a_shop_works_on_it(client, conn):
    car, owner, fleet = _car(conn)
    _order(conn, car, _shop(conn, "Working"), "oil_change")
    for who, headers in (
        ("owner", owner.headers),
        ("fleet manager", make_caller(conn, "fleet_manager", fleet_id=fleet).headers),
        ("admin", make_caller(conn, "admin").headers),
    ):
        health = _health(client, car, headers)
        assert (health["scope"], health["components"]) == ("full", ALL), who
        assert health["oil"] is not None and health["brake_pads"] is not None, who
        assert _kinds(health) == {"oil_change", "oil_sample", "brake_pads", "trouble_code"}, who
        assert health["latest"] == {"speed_kmh": 0.0, "coolant_temp_c": 88.0}, who


def test_a_shop_sees_the_car_not_its_holder(client, conn):
    car, owner, fleet = _car(conn)
    shop = _shop(conn, "Working")
    _order(conn, car, shop, "trouble_code")
    email = conn.execute("SELECT email FROM users WHERE user_id = %s", (owner.user_id,)).fetchone()[
        0
    ]
    staff = make_caller(conn, "shop_staff", shop_id=shop).headers

    vehicle = client.get(f"/vehicles/{car}", headers=staff).json()
    assert (vehicle["vin"], vehicle["make"], vehicle["model"], vehicle["model_year"]) == (
        VIN,
        "Volkswagen",
        "Golf",
        2019,
    )
    assert (vehicle["owner_user_id"], vehicle["fleet_id"]) == (None, None)
    listed = client.get("/vehicles", headers=staff).json()["items"]
    assert [(v["vin"], v["owner_user_id"], v["fleet_id"]) for v in listed] == [(VIN, None, None)]
    health = _health(client, car, staff)
    assert health["components"] == ["trouble_codes"] and _kinds(health) == {"trouble_code"}
    for path in (f"/vehicles/{car}", "/vehicles", f"/vehicles/{car}/health"):
        text = client.get(path, headers=staff).text
        assert email not in text and "52.52" not in text and "13.40" not in text, path

    # The holder still sees who holds the car.
    mine = client.get(f"/vehicles/{car}", headers=owner.headers).json()
    assert (mine["owner_user_id"], mine["fleet_id"]) == (owner.user_id, fleet)
