# SPDX-License-Identifier: MIT
"""A vehicle's registered mass and body type: set at registration and by PATCH, refused as
problem details outside their range or list, and only by the car's own side (issue 19)."""

from __future__ import annotations

import factories
import pytest
from api_helpers import make_caller

from predictive.mass import BODY_TYPES

VIN = "WLMASSREG00000001"


def _register(client, caller, **fields):
    return client.post("/vehicles", json={"vin": VIN, **fields}, headers=caller.headers)


def test_registered_with_mass_and_body_type(conn, client):
    owner = make_caller(conn, "owner")
    made = _register(client, owner, mass_kg=1620, body_type="suv")
    assert made.status_code == 201
    assert made.json()["mass_kg"] == 1620 and made.json()["body_type"] == "suv"
    got = client.get(f"/vehicles/{made.json()['vehicle_id']}", headers=owner.headers).json()
    assert got["mass_kg"] == 1620 and got["body_type"] == "suv"
    stored = conn.execute("SELECT mass_kg, body_type FROM vehicles WHERE vin = %s", (VIN,))
    assert stored.fetchone() == (1620, "suv")


def test_registered_without_either_is_unknown(conn, client):
    owner = make_caller(conn, "owner")
    made = _register(client, owner).json()
    assert made["mass_kg"] is None and made["body_type"] is None


def test_patch_sets_keeps_and_clears(conn, client):
    fleet = factories.fleet(conn, name="Vans").fleet_id
    fleet_manager = make_caller(conn, "fleet_manager", fleet_id=fleet)
    vid = _register(client, fleet_manager, body_type="van").json()["vehicle_id"]
    url = f"/vehicles/{vid}"
    set_mass = client.patch(url, json={"mass_kg": 2210.5}, headers=fleet_manager.headers)
    assert set_mass.status_code == 200
    assert set_mass.json()["mass_kg"] == 2210.5 and set_mass.json()["body_type"] == "van"
    # A field left out keeps its value; the sharing choice is untouched by either.
    shared = client.patch(
        url, json={"share_history_with_shops": True}, headers=fleet_manager.headers
    )
    assert shared.json() == {
        "share_history_with_shops": True,
        "mass_kg": 2210.5,
        "body_type": "van",
    }
    cleared = client.patch(url, json={"mass_kg": None}, headers=fleet_manager.headers).json()
    assert cleared["mass_kg"] is None and cleared["body_type"] == "van"
    assert cleared["share_history_with_shops"] is True


@pytest.mark.parametrize(
    "body",
    [{"mass_kg": 499}, {"mass_kg": 4001}, {"mass_kg": "heavy"}, {"body_type": "limousine"}],
)
def test_bad_mass_or_body_type_is_a_problem(conn, client, body):
    owner = make_caller(conn, "owner")
    refused = _register(client, owner, **body)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"].endswith("/invalid-request")
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in problem["errors"]] == list(body)
    assert conn.execute("SELECT count(*) FROM vehicles").fetchone()[0] == 0
    vid = _register(client, owner).json()["vehicle_id"]
    patched = client.patch(f"/vehicles/{vid}", json=body, headers=owner.headers)
    assert patched.status_code == 422 and patched.json()["type"].endswith("/invalid-request")
    row = conn.execute("SELECT mass_kg, body_type FROM vehicles WHERE vehicle_id = %s", (vid,))
    assert row.fetchone() == (None, None)


def test_another_tenant_cannot_set_it(conn, client):
    owner = make_caller(conn, "owner")
    vid = _register(client, owner, mass_kg=1300).json()["vehicle_id"]
    fleet = factories.fleet(conn, name="Other").fleet_id
    for other in (make_caller(conn, "owner"), make_caller(conn, "fleet_manager", fleet_id=fleet)):
        refused = client.patch(f"/vehicles/{vid}", json={"mass_kg": 3000}, headers=other.headers)
        assert refused.status_code == 404
        assert refused.headers["content-type"].startswith("application/problem+json")
    row = conn.execute("SELECT mass_kg FROM vehicles WHERE vehicle_id = %s", (vid,))
    assert row.fetchone() == (1300,)


def test_the_tables_body_types_are_predictives(conn):
    check = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'vehicles'::regclass AND conname = 'vehicles_body_type_check'"
    ).fetchone()[0]
    listed = [part.split("'")[1] for part in check.split("ARRAY[")[1].split(",")]
    assert tuple(listed) == BODY_TYPES
