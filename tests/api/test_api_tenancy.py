# SPDX-License-Identifier: MIT
"""The tenancy matrix: every route that takes an object id, called by every other tenant and
every wrong role, answers 404 or 403 and shows nothing of the object.

Two tenants of each kind (owners, fleets, shops) share the database. Tenant A's vehicle is
owned by owner A, belongs to fleet A and has an order at shop A, with a device on it; owner A
has an API key. Each route below names the callers allowed to see the object; every other
caller must be refused: 403 when their role may never use the route, else 404 with exactly the
body of a missing object. The allowed callers must succeed, so the matrix cannot pass by
refusing everyone. The route list is checked against the app's OpenAPI document: a new route
that takes an id fails ``test_every_route_taking_an_id_is_in_the_matrix`` until it is added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import factories
import pytest
from api_helpers import Caller, make_caller, openapi_routes

from api.auth.keys import create_key
from api.devices import credentials, pairing

VIN_A = "WLTENANTA00000001"
VIN_B = "WLTENANTB00000001"


@dataclass
class World:
    """Two tenants of each kind, their objects by name, and a caller per role and tenant."""

    callers: dict[str, Caller] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(conn) -> World:
    """Tenants A and B with a vehicle, order, shop, fleet, device and API key each."""
    w = World()
    for t in ("a", "b"):
        fleet = factories.fleet(conn, name=f"F{t}").fleet_id
        shop = factories.shop(conn, name=f"Shop {t}").shop_id
        owner = make_caller(conn, "owner")
        vin = VIN_A if t == "a" else VIN_B
        car = factories.vehicle(conn, vin=vin, fleet_id=fleet, owner_user_id=owner.user_id)
        vehicle = car.vehicle_id
        order = factories.order(conn, car, shop_id=shop).order_id
        alert = factories.alert(
            conn, vehicle, kind="brake_pads", message="Front pads 3.9 mm"
        ).alert_id
        device = factories.device(conn, vehicle, device_id=f"dongle-{t}").device_id
        credentials.issue(conn=conn, device_id=device, created_by=owner.user_id)
        w.callers |= {
            f"owner_{t}": owner,
            f"fleet_manager_{t}": make_caller(conn, "fleet_manager", fleet_id=fleet),
            f"shop_staff_{t}": make_caller(conn, "shop_staff", shop_id=shop),
        }
        offer = factories.offer(conn, order, shop, mode="sequential").offer_id
        subscription = factories.subscription(
            conn, url="https://hooks.example/a", secret="whsec_x", fleet_id=fleet
        ).subscription_id
        w.ids |= {
            f"webhook_{t}": subscription,
            f"offer_{t}": offer,
            f"vehicle_{t}": vehicle,
            f"fleet_{t}": fleet,
            f"shop_{t}": shop,
            f"order_{t}": order,
            f"alert_{t}": alert,
            f"device_{t}": device,
            f"key_{t}": create_key(conn=conn, user_id=owner.user_id).key_id,
            f"staff_{t}": w.callers[f"shop_staff_{t}"].user_id,
        }
    w.callers["admin"] = make_caller(conn, "admin")
    return w


@dataclass(frozen=True)
class Case:
    """A route taking tenant A's object: who may call it, and what else it needs."""

    params: dict[str, str]  # path parameter -> object name in World.ids
    roles: frozenset[str]  # roles that may use the route at all (others: 403)
    allowed: frozenset[str]  # callers who may see tenant A's object
    # JSON body: a value naming an object becomes its id; a callable gets the caller's name.
    body: dict[str, Any] | None = None
    kind: str = ""  # the object type in the 404 body
    body_object: str = ""  # the body field holding tenant A's object
    query: dict[str, str] = field(default_factory=dict)
    # Besides 2xx, what an allowed caller may get: a lifecycle step the order's state does not
    # allow (409) still shows the caller got past authorization.
    also_ok: frozenset[int] = frozenset()


def _new_vin(caller: str) -> str:
    """A valid VIN of its own for each caller who registers a vehicle."""
    return f"WLNEW{sum(map(ord, caller)) * 7919 % 10**12:012d}"


ALL_ROLES = frozenset({"owner", "fleet_manager", "shop_staff", "admin"})
# Who sees tenant A's order (shop A: it holds an unanswered offer of it).
VEHICLE_SEERS = frozenset({"owner_a", "fleet_manager_a", "shop_staff_a", "admin"})
# Who sees tenant A's car: shop A only has an offer, not an accepted order, so it does not
# (tests/api/test_api_shop_scope.py covers a shop working on the car).
CAR_SEERS = frozenset({"owner_a", "fleet_manager_a", "admin"})
DEVICE_ROLES = frozenset({"owner", "fleet_manager", "admin"})
DEVICE_SEERS = frozenset({"owner_a", "fleet_manager_a", "admin"})

# Every route that takes an object id: (method, path) -> Case.
MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/vehicles/{vehicle_id}"): Case(
        {"vehicle_id": "vehicle_a"}, ALL_ROLES, CAR_SEERS, kind="vehicle"
    ),
    ("GET", "/vehicles/{vehicle_id}/health"): Case(
        {"vehicle_id": "vehicle_a"}, ALL_ROLES, CAR_SEERS, kind="vehicle"
    ),
    ("GET", "/service-orders/{order_id}"): Case(
        {"order_id": "order_a"}, ALL_ROLES, VEHICLE_SEERS, kind="order"
    ),
    ("GET", "/shops/{shop_id}"): Case({"shop_id": "shop_a"}, ALL_ROLES, VEHICLE_SEERS, kind="shop"),
    ("GET", "/fleets/{fleet_id}"): Case(
        {"fleet_id": "fleet_a"},
        frozenset({"fleet_manager", "admin"}),
        frozenset({"fleet_manager_a", "admin"}),
        kind="fleet",
    ),
    ("GET", "/devices/{device_id}"): Case(
        {"device_id": "device_a"}, DEVICE_ROLES, DEVICE_SEERS, kind="device"
    ),
    ("POST", "/devices/{device_id}/credentials"): Case(
        {"device_id": "device_a"}, DEVICE_ROLES, DEVICE_SEERS, kind="device"
    ),
    ("DELETE", "/devices/{device_id}/credentials"): Case(
        {"device_id": "device_a"}, DEVICE_ROLES, DEVICE_SEERS, kind="device"
    ),
    ("DELETE", "/auth/keys/{key_id}"): Case(
        {"key_id": "key_a"}, ALL_ROLES, frozenset({"owner_a", "admin"}), kind="key"
    ),
    # The vehicle id travels in the body: registering a device on someone else's vehicle.
    ("POST", "/devices"): Case(
        {},
        DEVICE_ROLES,
        DEVICE_SEERS,
        body={"vehicle_id": "vehicle_a"},
        kind="vehicle",
        body_object="vehicle_id",
    ),
    # Registering a vehicle into someone else's fleet.
    ("POST", "/vehicles"): Case(
        {},
        frozenset({"owner", "fleet_manager", "admin"}),
        frozenset({"fleet_manager_a", "admin"}),
        body={"vin": _new_vin, "fleet_id": "fleet_a"},
        kind="fleet",
        body_object="fleet_id",
    ),
}

FLEET_ROLES = frozenset({"fleet_manager", "admin"})
FLEET_SEERS = frozenset({"fleet_manager_a", "admin"})
VEHICLE_SIDE = frozenset({"owner", "fleet_manager", "admin"})
VEHICLE_SIDE_A = frozenset({"owner_a", "fleet_manager_a", "admin"})
SHOP_SIDE = frozenset({"shop_staff", "admin"})
SHOP_SIDE_A = frozenset({"shop_staff_a", "admin"})
CONFLICT = frozenset({409})
ORDER_A = {"order_id": "order_a"}

MATRIX |= {
    # A car's telemetry history, predictions and alert history are its side's, never a shop's.
    ("GET", "/vehicles/{vehicle_id}/telemetry"): Case(
        {"vehicle_id": "vehicle_a"},
        VEHICLE_SIDE,
        VEHICLE_SIDE_A,
        kind="vehicle",
        query={"signal": "speed_kmh"},
    ),
    **{
        ("GET", f"/vehicles/{{vehicle_id}}/{what}"): Case(
            {"vehicle_id": "vehicle_a"}, VEHICLE_SIDE, VEHICLE_SIDE_A, kind="vehicle"
        )
        for what in ("predictions", "alerts")
    },
    **{
        ("GET", f"/vehicles/{{vehicle_id}}/{what}"): Case(
            {"vehicle_id": "vehicle_a"}, ALL_ROLES, CAR_SEERS, kind="vehicle"
        )
        for what in ("service-history", "oil-analyses")
    },
    # Whether shops see the car's history is the owner's (or the fleet's) choice.
    ("PATCH", "/vehicles/{vehicle_id}"): Case(
        {"vehicle_id": "vehicle_a"},
        VEHICLE_SIDE,
        VEHICLE_SIDE_A,
        body={"share_history_with_shops": True},
        kind="vehicle",
    ),
    # Recording a lab's analysis of someone else's vehicle (or of a car a shop was only
    # offered: it feeds the oil model).
    ("POST", "/vehicles/{vehicle_id}/oil-analyses"): Case(
        {"vehicle_id": "vehicle_a"},
        ALL_ROLES,
        CAR_SEERS,
        body={"sampled_at": "2026-11-20T09:30:00Z", "drained": False, "life_left_pct": 46.0},
        kind="vehicle",
    ),
    **{
        ("GET", f"/fleets/{{fleet_id}}/{what}"): Case(
            {"fleet_id": "fleet_a"}, FLEET_ROLES, FLEET_SEERS, kind="fleet"
        )
        for what in ("health", "health.csv", "kpis")
    },
    ("GET", "/service-orders/{order_id}/slots"): Case(
        ORDER_A, ALL_ROLES, VEHICLE_SEERS, kind="order"
    ),
    # A report's evidence: the car's side and the shop that did the work, never a shop merely
    # offered the order (shop A here). Order A has no report yet: past authorization its
    # callers get the report's 404 (tests/web/test_web_report_evidence.py reads a real one).
    ("GET", "/service-orders/{order_id}/report.pdf"): Case(
        ORDER_A, ALL_ROLES, CAR_SEERS, kind="order", also_ok=frozenset({404})
    ),
    ("POST", "/service-orders/{order_id}/propose"): Case(
        ORDER_A, VEHICLE_SIDE, VEHICLE_SIDE_A, body={}, kind="order", also_ok=CONFLICT
    ),
    ("POST", "/service-orders/{order_id}/confirm"): Case(
        ORDER_A, VEHICLE_SIDE, VEHICLE_SIDE_A, body={}, kind="order", also_ok=CONFLICT
    ),
    ("POST", "/service-orders/{order_id}/survey"): Case(
        ORDER_A, VEHICLE_SIDE, VEHICLE_SIDE_A, body={"score": 9}, kind="order", also_ok=CONFLICT
    ),
    ("POST", "/service-orders/{order_id}/complete"): Case(
        ORDER_A,
        SHOP_SIDE,
        SHOP_SIDE_A,
        body={"work_done": "oil and filter", "cost": "89.00"},
        kind="order",
        also_ok=CONFLICT,
    ),
    ("POST", "/service-orders/{order_id}/offers/{offer_id}/{answer}"): Case(
        # Accepting: an offer declined by the first allowed caller would hide the order from
        # the shop (a declined offer shows a shop nothing), an accepted one keeps it theirs.
        {"order_id": "order_a", "offer_id": "offer_a", "answer": "accept"},
        SHOP_SIDE,
        SHOP_SIDE_A,
        body={"reason": "no bay free"},
        kind="order",
        also_ok=CONFLICT,
    ),
    # Cancelling is the vehicle's side's step; shop staff may not (check-in and start are the
    # shop's, booking a slot is either side's).
    ("POST", "/service-orders/{order_id}/{step}"): Case(
        {"order_id": "order_a", "step": "cancel"},
        VEHICLE_SIDE,
        VEHICLE_SIDE_A,
        body={"reason": "sold the car"},
        kind="order",
        also_ok=CONFLICT,
    ),
    # Booking again is the vehicle's side's (409 while the order stands), and so is dismissing
    # an alert (409 once it is dismissed).
    ("POST", "/service-orders/{order_id}/rebook"): Case(
        ORDER_A, VEHICLE_SIDE, VEHICLE_SIDE_A, body={}, kind="order", also_ok=CONFLICT
    ),
    ("POST", "/alerts/{alert_id}/dismiss"): Case(
        {"alert_id": "alert_a"},
        VEHICLE_SIDE,
        VEHICLE_SIDE_A,
        body={"reason": "replaced abroad"},
        kind="alert",
        also_ok=CONFLICT,
    ),
    # Only admins name the fleet (or shop) whose events a new subscription gets.
    ("POST", "/webhooks"): Case(
        {},
        frozenset({"admin"}),
        frozenset({"admin"}),
        body={
            "url": "https://hooks.example/new",
            "event_types": ["alert.raised"],
            "fleet_id": "fleet_a",
        },
        kind="fleet",
        body_object="fleet_id",
    ),
    **{
        (method, f"/webhooks/{{subscription_id}}{tail}"): Case(
            {"subscription_id": "webhook_a"},
            frozenset({"fleet_manager", "shop_staff", "admin"}),
            FLEET_SEERS,
            kind="webhook",
        )
        for method, tail in (("GET", ""), ("GET", "/deliveries"), ("DELETE", ""))
    },
    ("GET", "/shops/{shop_id}/slots"): Case(
        {"shop_id": "shop_a"}, ALL_ROLES, VEHICLE_SEERS, kind="shop"
    ),
    ("GET", "/shops/{shop_id}/offers"): Case(
        {"shop_id": "shop_a"}, SHOP_SIDE, SHOP_SIDE_A, kind="shop"
    ),
    ("GET", "/shops/{shop_id}/kpis"): Case(
        {"shop_id": "shop_a"}, SHOP_SIDE, SHOP_SIDE_A, kind="shop"
    ),
    # The shop's own profile and staff (web app's Profile page): its staff alone, and admins.
    ("PUT", "/shops/{shop_id}/profile"): Case(
        {"shop_id": "shop_a"},
        SHOP_SIDE,
        SHOP_SIDE_A,
        body={
            "hours": {"mon": [["08:00", "17:00"]]},
            "bays": 2,
            "capabilities": ["oil_change"],
            "labour_rate_per_h": "90.00",
            "currency": "EUR",
        },
        kind="shop",
    ),
    ("GET", "/shops/{shop_id}/staff"): Case(
        {"shop_id": "shop_a"}, SHOP_SIDE, SHOP_SIDE_A, kind="shop"
    ),
    # A staff member's shop role (its managers, and admins); shop A's staff is its manager.
    ("PUT", "/shops/{shop_id}/staff/{user_id}"): Case(
        {"shop_id": "shop_a", "user_id": "staff_a"},
        SHOP_SIDE,
        SHOP_SIDE_A,
        body={"shop_role": "manager"},
        kind="shop",
    ),
    # Onboarding (revision 0011): admins make tenants and invite people; a fleet adds cars.
    ("POST", "/auth/invitations"): Case(
        {},
        frozenset({"admin"}),
        frozenset({"admin"}),
        body={"email": "new-{caller}@example.test", "role": "fleet_manager", "fleet_id": "fleet_a"},
        kind="fleet",
        body_object="fleet_id",
    ),
    ("POST", "/shops/{shop_id}/verify"): Case(
        {"shop_id": "shop_a"}, frozenset({"admin"}), frozenset({"admin"}), kind="shop"
    ),
    ("POST", "/fleets/{fleet_id}/vehicles"): Case(
        {"fleet_id": "fleet_a"}, FLEET_ROLES, FLEET_SEERS, body={"vin": _new_vin}, kind="fleet"
    ),
    ("DELETE", "/fleets/{fleet_id}/vehicles/{vehicle_id}"): Case(
        {"fleet_id": "fleet_a", "vehicle_id": "vehicle_a"}, FLEET_ROLES, FLEET_SEERS, kind="fleet"
    ),
    # The fleet's approval policy and its decisions (revision 0022): the fleet's manager's.
    ("GET", "/fleets/{fleet_id}/approval-policy"): Case(
        {"fleet_id": "fleet_a"}, FLEET_ROLES, FLEET_SEERS, kind="fleet"
    ),
    ("PUT", "/fleets/{fleet_id}/approval-policy"): Case(
        {"fleet_id": "fleet_a"},
        FLEET_ROLES,
        FLEET_SEERS,
        body={"limit_amount": 250, "currency": "EUR"},
        kind="fleet",
    ),
    ("GET", "/fleets/{fleet_id}/approvals"): Case(
        {"fleet_id": "fleet_a"}, FLEET_ROLES, FLEET_SEERS, kind="fleet"
    ),
    **{
        ("POST", f"/service-orders/{{order_id}}/{decision}"): Case(
            ORDER_A,
            FLEET_ROLES,
            FLEET_SEERS,
            body={"note": "over the budget"},
            kind="order",
            also_ok=CONFLICT,  # the order does not wait for the fleet
        )
        for decision in ("approve", "reject")
    },
    ("POST", "/devices/{device_id}/pairing-code"): Case(
        {"device_id": "device_a"}, DEVICE_ROLES, DEVICE_SEERS, kind="device"
    ),
    # Releasing a car is its owner's consent: not even an admin's.
    ("POST", "/vehicles/{vehicle_id}/release"): Case(
        {"vehicle_id": "vehicle_a"}, frozenset({"owner"}), frozenset({"owner_a"}), kind="vehicle"
    ),
}

# Routes whose object ids are filters of a list: another tenant's id yields an empty list.
LIST_FILTERS: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("GET", "/service-orders"): (
        "items",
        {"vehicle_id": "vehicle_a", "shop_id": "shop_a"},
    ),
}


# Server-sent event streams filter by id like lists, but never end on their own: their
# tenancy is tested with finite streams (tests/api/test_webhooks.py, the owners' events).
STREAMS = {("GET", "/events")}

# Routes authorized by proving possession of a secret rather than by tenancy: a claim names a
# device it does not yet hold. Tested by ``test_a_claim_needs_the_code_and_never_moves_a_car``.
PROOF = {("POST", "/vehicles/claims")}
# A service report's check by the code printed on it (tests/web/test_web_report_evidence.py).
PROOF |= {("GET", "/reports/verify/{code}")}


def _takes_an_id(spec: dict[str, Any], method: str, path: str) -> bool:
    operation = spec["paths"][path][method.lower()]
    if "{" in path:  # any path parameter names an object, whatever it is called
        return True
    names = [p["name"] for p in operation.get("parameters", [])]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        ref = body["schema"].get("$ref", "")
        schema = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        names += list(schema.get("properties", {}))
    return any(n.endswith("_id") for n in names)


def test_every_route_taking_an_id_is_in_the_matrix(client):
    spec = client.app.openapi()
    taking = {r for r in openapi_routes(client.app) if _takes_an_id(spec, *r)}
    assert taking, "the OpenAPI document lists no route taking an id"
    covered = set(MATRIX) | set(LIST_FILTERS) | STREAMS | PROOF
    assert taking - covered == set(), "routes taking an object id missing from the matrix"
    assert covered - taking == set(), "matrix entries for routes the app does not serve"


def _call(client, world: World, method: str, path: str, case: Case, caller: str):
    url = path
    for name, obj in case.params.items():
        url = url.replace("{" + name + "}", str(world.ids.get(obj, obj)))
    body = None
    if case.body is not None:
        body = {
            k: v(caller)
            if callable(v)
            else world.ids.get(v, v.format(caller=caller))
            if isinstance(v, str)
            else v
            for k, v in case.body.items()
        }
    return client.request(
        method, url, params=case.query, json=body, headers=world.callers[caller].headers
    )


def _object_id(world: World, case: Case) -> Any:
    if case.params:
        return world.ids[next(iter(case.params.values()))]
    assert case.body is not None
    return world.ids[case.body[case.body_object]]


@pytest.mark.parametrize(("method", "path"), list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_other_tenants_and_wrong_roles_get_nothing(client, world, method, path):
    case = MATRIX[(method, path)]
    object_id = _object_id(world, case)
    # The requested id is echoed in the 404 like a missing one; nothing else of A may show.
    secrets = [VIN_A, "Shop a", "Fa"]
    # The refused callers first, while the object exists; a deletion by the first allowed
    # caller leaves the others a missing object, answered like any other.
    callers = sorted(world.callers.items(), key=lambda kv: (kv[0] in case.allowed, kv[0]))
    deleted = False
    for caller_name, caller in callers:
        response = _call(client, world, method, path, case, caller_name)
        if caller_name in case.allowed:
            ok = response.status_code < 300 or response.status_code in case.also_ok
            assert ok or (deleted and response.status_code == 404), (caller_name, response.text)
            deleted = deleted or method == "DELETE"
            continue
        expected = 403 if caller.role not in case.roles else 404
        assert response.status_code == expected, (caller_name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        text = response.text
        assert not any(s in text for s in secrets), (caller_name, text)
        if expected == 404:
            # Exactly what a missing object of that type answers: no hint that it exists.
            assert response.json() == {
                "type": f"/problems/{case.kind}-not-found",
                "title": f"{case.kind.capitalize()} not found",
                "status": 404,
                "detail": f"No {case.kind} with id {object_id}.",
                "instance": response.request.url.path,
            }


def test_a_hidden_object_answers_like_a_missing_one(client, world):
    intruder = world.callers["owner_b"].headers
    hidden = client.get(f"/vehicles/{world.ids['vehicle_a']}", headers=intruder)
    missing_id = world.ids["vehicle_b"] + 1000
    missing = client.get(f"/vehicles/{missing_id}", headers=intruder)
    assert hidden.status_code == missing.status_code == 404
    same = {"detail": None, "instance": None}
    assert hidden.json() | same == missing.json() | same
    assert re.sub(r"\d+", "N", hidden.json()["detail"]) == re.sub(
        r"\d+", "N", missing.json()["detail"]
    )


@pytest.mark.parametrize(("method", "path"), list(LIST_FILTERS))
def test_lists_filtered_by_another_tenants_id_are_empty(client, world, method, path):
    items_key, filters = LIST_FILTERS[(method, path)]
    for caller_name, caller in world.callers.items():
        for param, obj in filters.items():
            response = client.request(
                method, path, params={param: world.ids[obj]}, headers=caller.headers
            )
            assert response.status_code == 200
            items = response.json()[items_key]
            if caller_name in VEHICLE_SEERS:
                assert items, (caller_name, param)
            else:
                assert items == [] and VIN_A not in response.text, (caller_name, param)


def test_lists_show_each_caller_their_own(client, world):
    def vins(caller: str, path: str) -> set[str]:
        body = client.get(path, headers=world.callers[caller].headers).json()
        return {item["vin"] for item in body["items"]}

    for path in ("/vehicles", "/service-orders"):
        assert vins("admin", path) == {VIN_A, VIN_B}
        for t, vin in (("a", VIN_A), ("b", VIN_B)):
            for role in ("owner", "fleet_manager", "shop_staff"):
                # A shop offered an order sees the order, not yet the car.
                want = set() if (role, path) == ("shop_staff", "/vehicles") else {vin}
                assert vins(f"{role}_{t}", path) == want, (path, role, t)


def _ids(response, key: str) -> set[int]:
    assert response.status_code == 200, response.text
    return {item[key] for item in response.json()["items"]}


def test_fleet_and_shop_lists_show_each_role_what_it_may(client, world, conn):
    # Shop B applied by itself and waits for an admin: only admins and its own staff see it.
    conn.execute("UPDATE shops SET verified_at = NULL WHERE shop_id = %s", (world.ids["shop_b"],))
    fleets = {world.ids["fleet_a"], world.ids["fleet_b"]}
    shops = {world.ids["shop_a"], world.ids["shop_b"]}
    expected_fleets = {"admin": fleets, "fleet_manager_a": {world.ids["fleet_a"]}}
    expected_shops = {
        "admin": shops,
        "shop_staff_a": {world.ids["shop_a"]},
        "shop_staff_b": {world.ids["shop_b"]},
    }
    for name, caller in world.callers.items():
        listed = client.get("/fleets", headers=caller.headers)
        if caller.role in ("fleet_manager", "admin"):
            want = expected_fleets.get(name, {world.ids["fleet_b"]})
            assert _ids(listed, "fleet_id") == want, name
        else:
            assert listed.status_code == 403, (name, listed.text)
        # Owners and fleet managers see the verified directory's public cards.
        want = expected_shops.get(name, {world.ids["shop_a"]})
        assert _ids(client.get("/shops", headers=caller.headers), "shop_id") == want, name
    admin = world.callers["admin"].headers
    waiting = client.get("/shops", params={"verified": "false"}, headers=admin)
    assert _ids(waiting, "shop_id") == {world.ids["shop_b"]}


def test_a_claim_needs_the_code_and_never_moves_a_car(client, world, conn):
    code = pairing.issue_code(conn=conn, device_id="dongle-a")
    body = {"vin": VIN_A, "pairing_code": code}
    for name, caller in world.callers.items():
        if caller.role != "owner":
            response = client.post("/vehicles/claims", json=body, headers=caller.headers)
            assert response.status_code == 403, (name, response.text)
            assert response.json()["type"] == "/problems/forbidden"
    intruder = world.callers["owner_b"].headers
    wrong = client.post(
        "/vehicles/claims", json=body | {"pairing_code": "AAAAA-AAAAA"}, headers=intruder
    )
    assert wrong.status_code == 403 and wrong.json()["type"] == "/problems/pairing-code-invalid"
    # Even with the right code, owner A's car stays owner A's: B is told who must act.
    right = client.post("/vehicles/claims", json=body, headers=intruder)
    assert right.status_code == 409, right.text
    assert "release" in right.json()["detail"]
    for response in (wrong, right):
        assert not any(s in response.text for s in ("Shop a", "Fa", "dongle-a"))
    owner_a = world.callers["owner_a"]
    owner = "SELECT owner_user_id FROM vehicles WHERE vehicle_id = %s"
    assert conn.execute(owner, (world.ids["vehicle_a"],)).fetchone()[0] == owner_a.user_id
    mine = client.post("/vehicles/claims", json=body, headers=owner_a.headers)
    assert mine.status_code == 200 and mine.json()["vehicle_id"] == world.ids["vehicle_a"]
