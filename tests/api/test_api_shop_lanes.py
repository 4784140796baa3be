# SPDX-License-Identifier: MIT
"""A shop stays in its job's lane (issue 15, shop scope and live streams): of a car's live
alerts it gets those of the components its active jobs cover, as its health view shows, and
of an order it reads its own entry of the ranking, its own price, offers and steps, never
another shop's. The car's side and admins keep the full view. Real PostgreSQL and uvicorn."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator

import factories
import httpx2
import pytest
import uvicorn
from api_helpers import AUTH, make_caller
from api_order_helpers import oil_alert, oil_shops
from private_servers import free_port

from api import create_app
from api.webhooks.delivery import fan_out
from orders.service import order_open_alerts

VIN = "WLLANE00000000001"
KINDS = ("oil_change", "oil_sample", "brake_pads", "trouble_code")


@pytest.fixture
def live(db_url) -> Iterator[str]:
    """The API served by uvicorn in a thread (live streams need a real server): its URL."""
    app = create_app(db_url, auth=AUTH)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def _shop(conn, name: str) -> int:
    return factories.shop(conn, name=name).shop_id


def _order(conn, car: int, shop: int, component: str | None, job: str, status: str) -> int:
    vehicle = factories.Vehicle(car, VIN)
    return factories.order(
        conn,
        vehicle,
        shop_id=shop,
        status=status,
        issue="issue",
        job_code=job,
        job_description="job",
        component=component,
    ).order_id


def _alerts_until(base: str, headers: dict[str, str], marker: int) -> list[str]:
    """The kinds of the alerts a stream from the beginning delivers before the marker order."""
    kinds: list[str] = []
    timeout = httpx2.Timeout(10, read=20)
    with httpx2.stream(
        "GET", f"{base}/events", headers=headers | {"Last-Event-ID": "0"}, timeout=timeout
    ) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            if event["type"] == "alert.raised":
                kinds.append(event["data"]["kind"])
            elif event["data"].get("order_id") == marker:
                return kinds
    raise AssertionError(f"the stream ended before the marker; alerts so far {kinds}")


def test_a_shop_gets_the_live_alerts_of_its_jobs_components_only(live, conn):
    owner = make_caller(conn, "owner")
    car = factories.vehicle(conn, vin=VIN, owner_user_id=owner.user_id, vin_proven=True).vehicle_id
    oil, pads, diag, done = (_shop(conn, n) for n in ("Oil", "Pads", "Diag", "Done"))
    _order(conn, car, oil, "oil_change", "OIL-CHG", "accepted")
    # Known by its job code only (made before orders had a component): the rear pads.
    _order(conn, car, pads, None, "BRK-PAD-R", "scheduled")
    _order(conn, car, diag, "trouble_code", "DIAG", "in_service")
    _order(conn, car, done, "trouble_code", "DIAG", "completed")
    for kind in KINDS:
        factories.alert(conn, car, kind=kind, message=f"{kind} alert", tier="due_now")
    # An order offered to every shop and the owner's, created last, ends each stream.
    marker = _order(conn, car, oil, None, "OIL-CHG", "offered")
    staff = {s: make_caller(conn, "shop_staff", shop_id=s) for s in (oil, pads, diag, done)}
    for shop in staff:
        factories.offer(conn, marker, shop)

    assert _alerts_until(live, staff[oil].headers, marker) == ["oil_change", "oil_sample"]
    assert _alerts_until(live, staff[pads].headers, marker) == ["brake_pads"]
    assert _alerts_until(live, staff[diag].headers, marker) == ["trouble_code"]
    # A finished job is no work now: the car and its alerts are gone for that shop.
    assert _alerts_until(live, staff[done].headers, marker) == []
    assert _alerts_until(live, owner.headers, marker) == list(KINDS)
    admin = make_caller(conn, "admin")
    assert _alerts_until(live, admin.headers, marker) == list(KINDS)

    # The same lane as the health view: each shop's alerts are the ones it shows.
    for shop, kinds in ((oil, {"oil_change", "oil_sample"}), (pads, {"brake_pads"})):
        health = httpx2.get(f"{live}/vehicles/{car}/health", headers=staff[shop].headers).json()
        assert {a["kind"] for a in health["open_alerts"]} == kinds


def test_a_shops_webhooks_carry_no_alerts(conn):
    owner = make_caller(conn, "owner")
    car = factories.vehicle(conn, vin=VIN, owner_user_id=owner.user_id, vin_proven=True).vehicle_id
    shop = _shop(conn, "Hooked")
    order = _order(conn, car, shop, "oil_change", "OIL-CHG", "accepted")
    # Won as an order is won: its accepted offer (a shop's hook hears of an order it may see).
    factories.offer(conn, order, shop, response="accepted", responded_at=dt.datetime.now(dt.UTC))
    hook = factories.subscription(
        conn, event_types=["alert.raised", "order.status_changed"], secret="s", shop_id=shop
    ).subscription_id
    for kind in KINDS:
        factories.alert(conn, car, kind=kind, message="m", tier="due_now")
    conn.execute("UPDATE service_orders SET status = 'scheduled'")
    assert fan_out(conn, now=dt.datetime.now(dt.UTC)) > len(KINDS)
    got = conn.execute(
        "SELECT o.event_type FROM webhook_deliveries d JOIN outbox o USING (event_id) "
        "WHERE d.subscription_id = %s",
        (hook,),
    ).fetchall()
    assert got == [("order.status_changed",)]


# Each shop's own price for the oil change, so a shop's estimate tells whose it is.
SHOPS = {"Alder Garage": 120.0, "Birch Motors": 95.0, "Cedar Autohaus": 80.0}


def _broadcast(conn, admin_client) -> tuple[int, dict[str, int], dict, dict[str, str]]:
    """An owner's oil order broadcast to three shops; (order id, shop id by name, the admin's
    view, the owner's headers)."""
    oil_shops(conn, SHOPS)
    car = oil_alert(conn, VIN)
    owner = make_caller(conn, "owner")
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s, vin_proven = true WHERE vehicle_id = %s",
        (owner.user_id, car),
    )
    (order,) = order_open_alerts(conn=conn)
    body = admin_client.post(
        f"/service-orders/{order}/propose",
        json={"mode": "broadcast", "consent": "propose", "k": 3},
    ).json()
    ids = {r["name"]: r["shop_id"] for r in body["match"]["ranked"]}
    assert set(ids) == set(SHOPS)
    best = body["match"]["ranked"][0]["shop_id"]
    confirmed = admin_client.post(f"/service-orders/{order}/confirm", json={"shop_id": best})
    assert confirmed.status_code == 200, confirmed.text
    return order, ids, confirmed.json(), owner.headers


def _foreign(text: str, own: str) -> list[str]:
    return [name for name in SHOPS if name != own and name in text]


def test_a_shop_with_an_open_offer_reads_no_rival(client, conn, admin):
    client.headers.update(admin.headers)
    order, ids, full, _ = _broadcast(conn, client)
    assert full["status"] == "offered" and len(full["offers"]) == 3
    provisional = full["shop"]["shop_id"]
    last = full["match"]["ranked"][-1]["name"]
    staff = make_caller(conn, "shop_staff", shop_id=ids[last]).headers

    response = client.get(f"/service-orders/{order}", headers=staff)
    assert response.status_code == 200, response.text
    mine = response.json()
    assert _foreign(response.text, last) == []
    assert provisional != ids[last] and mine["shop"] is None
    assert [r["shop_id"] for r in mine["match"]["ranked"]] == [ids[last]]
    entry = mine["match"]["ranked"][0]
    assert entry["inputs"]["price"] == SHOPS[last]
    assert not {"criteria", "total", "rank"} & set(entry)
    assert mine["estimate"] == {"total": SHOPS[last], "currency": "EUR", "jobs": ["OIL-CHG"]}
    assert [f["shop_id"] for f in mine["offers"]] == [ids[last]]
    # The offer wave and the owner's choice are steps of the order, not lists of shops.
    naming = [
        e
        for e in mine["events"]
        if e["kind"] == "consent" or (e["kind"], e["status"]) == ("transition", "offered")
    ]
    assert len(naming) == 2 and [e["note"] for e in naming] == [None, None]
    listed = client.get("/service-orders", headers=staff)
    assert listed.status_code == 200 and _foreign(listed.text, last) == []
    (item,) = listed.json()["items"]
    assert item["shop"] is None and [r["shop_id"] for r in item["match"]["ranked"]] == [ids[last]]
    # Filtering by a rival tells nothing about who holds the order provisionally.
    rival = client.get("/service-orders", params={"shop_id": provisional}, headers=staff)
    assert rival.status_code == 200 and rival.json()["items"] == []


def test_the_winning_shop_reads_its_own_entry_and_steps_only(client, conn, admin):
    client.headers.update(admin.headers)
    order, ids, full, owner = _broadcast(conn, client)
    ranked = [r["name"] for r in full["match"]["ranked"]]
    first, winner = ranked[0], ranked[1]
    offer = {f["shop_id"]: f["offer_id"] for f in full["offers"]}
    staff = {name: make_caller(conn, "shop_staff", shop_id=ids[name]).headers for name in SHOPS}
    declined = client.post(
        f"/service-orders/{order}/offers/{offer[ids[first]]}/decline",
        json={"reason": f"{first} is fully booked"},
        headers=staff[first],
    )
    assert declined.status_code == 200, declined.text
    won = client.post(
        f"/service-orders/{order}/offers/{offer[ids[winner]]}/accept", headers=staff[winner]
    )
    assert won.status_code == 200, won.text

    for response in (won, client.get(f"/service-orders/{order}", headers=staff[winner])):
        mine = response.json()
        assert _foreign(response.text, winner) == [], response.text
        assert mine["status"] == "accepted" and mine["shop"]["shop_id"] == ids[winner]
        assert [r["shop_id"] for r in mine["match"]["ranked"]] == [ids[winner]]
        # The stored estimate is the best-ranked shop's price; the winner reads its own.
        assert mine["estimate"]["total"] == SHOPS[winner]
        assert [f["shop_id"] for f in mine["offers"]] == [ids[winner]]
        assert {e["shop_id"] for e in mine["events"]} <= {None, ids[winner]}
        assert all(e["actor"] in ("system", "owner", f"shop:{ids[winner]}") for e in mine["events"])
        assert [e["status"] for e in mine["events"]][-1] == "accepted"

    # The car's side and admins keep the whole record: every shop, score, offer and step.
    for response in (
        client.get(f"/service-orders/{order}"),
        client.get(f"/service-orders/{order}", headers=owner),
    ):
        assert response.status_code == 200, response.text
        every = response.json()
        assert [r["name"] for r in every["match"]["ranked"]] == ranked
        assert all("criteria" in r and "total" in r for r in every["match"]["ranked"])
        assert len(every["offers"]) == 3
        assert f"{first} is fully booked" in response.text
        assert every["estimate"]["total"] == SHOPS[first]
