# SPDX-License-Identifier: MIT
"""Webhooks on real PostgreSQL against a real local HTTP receiver: events from the outbox
triggers, tenant filtering, Standard Webhooks signatures, retries with backoff, the delivery
log, giving up, and the delivery worker waking on NOTIFY.

The receivers listen on 127.0.0.1, which webhooks may reach only because these tests allow
it as an operator would (WRENCHLIGHT_WEBHOOK_ALLOW_PRIVATE); test_webhook_network.py shows
that without the allow-list they are never reached."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import factories
import httpx2
import psycopg
import pytest

from api import create_app, webhooks
from api.webhooks import delivery as webhook_delivery
from api.webhooks import signing
from api.webhooks.network import WebhookConfig
from api.webhooks.subscriptions import InvalidSubscription

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
# The receivers' address, allowed as an operator allows a private receiver.
LOOPBACK = WebhookConfig(allow_private=("127.0.0.1",))


@dataclass
class Receiver:
    """A real HTTP server on a free port: records each request, answers with the queued
    status codes (then 200)."""

    url: str
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    answers: queue.Queue[int] = field(default_factory=queue.Queue)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            rec = box[0]
            rec.requests.append((self.path, dict(self.headers.items()), body))
            try:
                code = rec.answers.get_nowait()
            except queue.Empty:
                code = 200
            self.send_response(code)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box[0]
    server.shutdown()
    server.server_close()


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with webhooks.client(LOOPBACK) as client:
        yield client


@pytest.fixture
def client(db_url):
    """The API, allowing the loopback receivers."""
    from api_helpers import AUTH
    from fastapi.testclient import TestClient

    with TestClient(create_app(db_url, auth=AUTH, webhooks=LOOPBACK)) as test_client:
        yield test_client


@pytest.fixture
def tenants(conn: psycopg.Connection) -> dict[str, int]:
    """Two fleets with a vehicle each, and two shops."""
    ids: dict[str, int] = {}
    for name in ("a", "b"):
        ids[f"fleet_{name}"] = factories.fleet(conn, name=name).fleet_id
        ids[f"shop_{name}"] = factories.shop(conn, name=name, lat=52.5, lon=13.4).shop_id
    for name, vin in (("a", "WLA00000000000001"), ("b", "WLB00000000000002")):
        ids[f"vehicle_{name}"] = factories.vehicle(
            conn, vin=vin, fleet_id=ids[f"fleet_{name}"]
        ).vehicle_id
    return ids


def _alert(conn: psycopg.Connection, vehicle_id: int, tier: str = "change_soon") -> int:
    return factories.alert(conn, vehicle_id, message="Oil life 14 %", tier=tier).alert_id


def _order(conn: psycopg.Connection, vehicle_id: int, shop_id: int) -> int:
    return factories.order(
        conn,
        vehicle_id,
        shop_id=shop_id,
        issue="oil",
        job_code="oil_change",
        job_description="Oil and filter",
    ).order_id


def _cycle(conn, http, now):
    webhook_delivery.fan_out(conn, now=now)
    return webhook_delivery.deliver_due(conn, http, now=now)


def test_an_alert_reaches_its_fleets_receiver_signed(conn, http, receiver, tenants):
    created = webhooks.create(
        conn,
        config=LOOPBACK,
        url=receiver.url,
        event_types=["alert.raised"],
        fleet_id=tenants["fleet_a"],
    )
    alert_id = _alert(conn, tenants["vehicle_a"])
    _alert(conn, tenants["vehicle_b"])  # another fleet's: not for this subscription
    results = _cycle(conn, http, T0)
    assert [(r.status_code, r.status) for r in results] == [(200, "delivered")]
    [(path, headers, body)] = receiver.requests
    assert path == "/hook"
    doc = json.loads(body)
    assert doc["type"] == "alert.raised"
    assert doc["data"]["alert_id"] == alert_id
    assert doc["data"]["vin"] == "WLA00000000000001"
    # Our verifier accepts it, and so does the HMAC recomputed by hand from the spec.
    signing.verify(created.secret, headers, body, now=T0.timestamp())
    key = base64.b64decode(created.secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    with pytest.raises(signing.InvalidSignature):
        signing.verify(created.secret, headers, body.replace(b"14", b"41"), now=T0.timestamp())
    with pytest.raises(signing.InvalidSignature):
        signing.verify(created.secret, headers, body, now=T0.timestamp() + 3600)
    log = webhooks.deliveries(conn, created.subscription["subscription_id"])
    assert [(d["status"], [a["status_code"] for a in d["log"]]) for d in log] == [
        ("delivered", [200])
    ]


def test_a_shop_gets_only_its_orders_and_every_status_change(conn, http, receiver, tenants):
    created = webhooks.create(
        conn,
        config=LOOPBACK,
        url=receiver.url,
        event_types=["order.created", "order.status_changed"],
        shop_id=tenants["shop_a"],
    )
    mine = _order(conn, tenants["vehicle_a"], tenants["shop_a"])
    factories.offer(conn, mine, tenants["shop_a"], response="accepted", responded_at=T0)
    _order(conn, tenants["vehicle_b"], tenants["shop_b"])
    conn.execute("UPDATE service_orders SET issue = 'edited' WHERE order_id = %s", (mine,))
    status = conn.execute("SELECT status FROM service_orders WHERE order_id = %s", (mine,))
    before = status.fetchone()[0]
    conn.execute("UPDATE service_orders SET status = 'cancelled' WHERE order_id = %s", (mine,))
    _cycle(conn, http, T0)
    docs = [json.loads(body) for _, _, body in receiver.requests]
    assert [(d["type"], d["data"]["order_id"]) for d in docs] == [
        ("order.created", mine),
        ("order.status_changed", mine),
    ]
    assert docs[1]["data"]["previous_status"] == before
    assert docs[1]["data"]["status"] == "cancelled"
    assert len(webhooks.deliveries(conn, created.subscription["subscription_id"])) == 2


def test_a_shop_gets_an_orders_events_only_while_its_staff_may_see_the_order(
    conn, http, receiver, tenants
):
    """The order's shop_id may be only the matcher's proposal: the shop hears nothing of an
    order it was not offered, nor of one it declined; an open offer or a won order, all."""
    webhooks.create(
        conn,
        config=LOOPBACK,
        url=receiver.url,
        event_types=["order.created", "order.status_changed"],
        shop_id=tenants["shop_a"],
    )
    proposed = _order(conn, tenants["vehicle_a"], tenants["shop_a"])  # not offered yet
    declined = _order(conn, tenants["vehicle_b"], tenants["shop_a"])
    factories.offer(conn, declined, tenants["shop_a"], response="declined", responded_at=T0)
    offered = _order(conn, tenants["vehicle_a"], tenants["shop_a"])
    factories.offer(conn, offered, tenants["shop_a"])
    _cycle(conn, http, T0)
    docs = [json.loads(body) for _, _, body in receiver.requests]
    assert [(d["type"], d["data"]["order_id"]) for d in docs] == [("order.created", offered)]
    assert "WLB00000000000002" not in "".join(body.decode() for _, _, body in receiver.requests)
    assert proposed != offered


def test_failures_are_retried_on_the_backoff_schedule_then_delivered(conn, http, receiver, tenants):
    created = webhooks.create(conn, url=receiver.url, event_types=["alert.raised"], config=LOOPBACK)
    _alert(conn, tenants["vehicle_a"])
    receiver.answers.put(500)
    receiver.answers.put(503)
    assert [r.status for r in _cycle(conn, http, T0)] == ["pending"]
    first_wait = webhook_delivery.RETRY_SCHEDULE[0]
    assert _cycle(conn, http, T0 + first_wait - timedelta(seconds=1)) == []  # not due yet
    assert [r.status for r in _cycle(conn, http, T0 + first_wait)] == ["pending"]
    third_at = T0 + first_wait + webhook_delivery.RETRY_SCHEDULE[1]
    assert [r.status for r in _cycle(conn, http, third_at)] == ["delivered"]
    [delivery] = webhooks.deliveries(conn, created.subscription["subscription_id"])
    assert [a["status_code"] for a in delivery["log"]] == [500, 503, 200]
    # The same event id on every attempt, so the receiver can drop repeats.
    assert len({h["webhook-id"] for _, h, _ in receiver.requests}) == 1


def test_gone_disables_the_subscription_and_unreachable_is_logged(conn, http, receiver, tenants):
    gone = webhooks.create(conn, url=receiver.url, event_types=["alert.raised"], config=LOOPBACK)
    dead = webhooks.create(
        conn, url="http://127.0.0.1:9/nothing", event_types=["alert.raised"], config=LOOPBACK
    )
    receiver.answers.put(410)
    _alert(conn, tenants["vehicle_a"])
    results = {r.status_code: r for r in _cycle(conn, http, T0)}
    assert results[410].status == "failed"
    # Said without the reason (refused, reset, timed out), which would map internal ports.
    assert results[None].status == "pending" and results[None].error == webhook_delivery.UNREACHABLE
    subscription = webhooks.subscriptions.get(conn, gone.subscription["subscription_id"])
    assert subscription is not None and not subscription["active"]
    assert "410" in subscription["disabled_reason"]
    [dead_delivery] = webhooks.deliveries(conn, dead.subscription["subscription_id"])
    assert dead_delivery["log"][0]["status_code"] is None and dead_delivery["log"][0]["error"]
    # A new event: the disabled subscription gets nothing, the unreachable one tries again.
    _alert(conn, tenants["vehicle_a"], tier="due_now")
    assert [r.status_code for r in _cycle(conn, http, T0)] == [None]


def test_a_delivery_gives_up_after_the_last_attempt(conn, http, receiver, tenants):
    created = webhooks.create(conn, url=receiver.url, event_types=["alert.raised"], config=LOOPBACK)
    _alert(conn, tenants["vehicle_a"])
    for _ in range(webhook_delivery.MAX_ATTEMPTS):
        receiver.answers.put(500)
    now = T0
    statuses = []
    for step in (timedelta(0), *webhook_delivery.RETRY_SCHEDULE):
        now += step
        statuses += [r.status for r in _cycle(conn, http, now)]
    assert statuses == ["pending"] * (webhook_delivery.MAX_ATTEMPTS - 1) + ["failed"]
    [delivery] = webhooks.deliveries(conn, created.subscription["subscription_id"])
    assert delivery["attempts"] == webhook_delivery.MAX_ATTEMPTS and len(delivery["log"]) == 9


def test_a_rolled_back_change_announces_nothing(conn, tenants):
    class Undo(Exception):
        pass

    with pytest.raises(Undo), conn.transaction():
        _alert(conn, tenants["vehicle_a"])
        raise Undo
    assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,)


def test_bad_subscriptions_are_refused(conn):
    with pytest.raises(InvalidSubscription, match="event types"):
        webhooks.create(conn, url="https://x.example/h", event_types=["alert.deleted"])
    with pytest.raises(InvalidSubscription, match="http"):
        webhooks.create(conn, url="ftp://x.example/h", event_types=["alert.raised"])


def test_the_delivery_worker_delivers_as_soon_as_an_event_commits(db_url, conn, receiver, tenants):
    webhooks.create(conn, url=receiver.url, event_types=["alert.raised"], config=LOOPBACK)
    stop = threading.Event()
    worker = threading.Thread(
        target=webhook_delivery.run,
        args=(db_url,),
        kwargs={"stop": stop, "poll_s": 30.0, "config": LOOPBACK},
    )
    worker.start()
    try:
        # The worker listens before its first pass, so once this first alert arrived (by that
        # pass or by NOTIFY) it is listening: a condition, where a pause would only guess.
        _alert(conn, tenants["vehicle_b"])
        started = time.monotonic()
        while not receiver.requests and time.monotonic() - started < 25:
            time.sleep(0.02)
        assert receiver.requests, "the dispatcher delivered nothing in 25 s"
        started = time.monotonic()
        _alert(conn, tenants["vehicle_a"])
        while len(receiver.requests) < 2 and time.monotonic() - started < 25:
            time.sleep(0.02)
        # Woken by NOTIFY, long before its 30 s poll (the bound sits under the poll, not at a
        # guess of the machine's speed: a loaded machine has needed more than 5 s).
        assert len(receiver.requests) == 2 and time.monotonic() - started < 20
    finally:
        stop.set()
        with psycopg.connect(db_url, autocommit=True) as c:
            c.execute("SELECT pg_notify('wl_outbox', 'stop')")
        worker.join(10)
    assert not worker.is_alive()


def test_the_cli_subscribes_and_shows_the_log(db_url, conn, http, receiver, tenants, monkeypatch):
    from typer.testing import CliRunner

    from wrenchlight.cli import build_app

    app = build_app()

    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", db_url)
    monkeypatch.setenv("WRENCHLIGHT_WEBHOOK_ALLOW_PRIVATE", "127.0.0.1")
    added = CliRunner().invoke(
        app, ["webhooks", "add", receiver.url, "-e", "alert.raised", "--json"]
    )
    assert added.exit_code == 0, added.output
    doc = json.loads(added.stdout)
    assert doc["secret"].startswith("whsec_") and doc["event_types"] == ["alert.raised"]
    refused = CliRunner().invoke(app, ["webhooks", "add", receiver.url, "-e", "nope"])
    assert refused.exit_code == 2 and "event types" in refused.output
    _alert(conn, tenants["vehicle_a"])
    _cycle(conn, http, T0)
    shown = CliRunner().invoke(app, ["webhooks", "log", str(doc["subscription_id"]), "--json"])
    assert shown.exit_code == 0, shown.output
    [delivery] = json.loads(shown.stdout)["deliveries"]
    assert delivery["status"] == "delivered" and delivery["log"][0]["status_code"] == 200


def test_a_fleet_manager_subscribes_through_the_api_and_reads_the_log(
    client, conn, http, receiver, tenants
):
    from api_helpers import make_caller

    manager = make_caller(conn, "fleet_manager", fleet_id=tenants["fleet_a"]).headers
    other = make_caller(conn, "fleet_manager", fleet_id=tenants["fleet_b"]).headers
    owner = make_caller(conn, "owner").headers
    body = {"url": receiver.url, "event_types": ["alert.raised"], "description": "planner"}
    created = client.post("/webhooks", json=body, headers=manager)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["fleet_id"] == tenants["fleet_a"] and sub["secret"].startswith("whsec_")
    assert client.post("/webhooks", json=body, headers=owner).status_code == 403
    chosen = client.post("/webhooks", json=body | {"fleet_id": tenants["fleet_b"]}, headers=manager)
    assert chosen.status_code == 403  # only admins choose another tenant
    bad = client.post("/webhooks", json=body | {"event_types": ["alert.deleted"]}, headers=manager)
    assert bad.status_code == 422
    listed = client.get("/webhooks", headers=manager).json()["items"]
    assert [s["subscription_id"] for s in listed] == [sub["subscription_id"]]
    assert "secret" not in listed[0]
    assert client.get("/webhooks", headers=other).json()["items"] == []
    _alert(conn, tenants["vehicle_a"])
    _cycle(conn, http, T0)
    signing.verify(
        sub["secret"], receiver.requests[0][1], receiver.requests[0][2], now=T0.timestamp()
    )
    path = f"/webhooks/{sub['subscription_id']}"
    log = client.get(f"{path}/deliveries", headers=manager).json()
    assert [(d["event_type"], d["status"]) for d in log["items"]] == [("alert.raised", "delivered")]
    assert client.get(f"{path}/deliveries", headers=other).status_code == 404
    assert client.delete(path, headers=manager).status_code == 204
    assert client.get(path, headers=manager).status_code == 404


def _sse(client, headers, **params):
    """The events of one finite stream, as (id, event, parsed data)."""
    got, current = [], {}
    with client.stream("GET", "/events", params=params, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith(("id:", "event:", "data:")):
                key, _, value = line.partition(":")
                current[key] = value.strip()
            elif not line and "data" in current:
                got.append((int(current["id"]), current["event"], json.loads(current["data"])))
                current = {}
    return got


def test_owners_get_their_vehicles_events_live_and_resume_after_the_last_seen(
    client, conn, tenants
):
    from api_helpers import make_caller

    owner = make_caller(conn, "owner")
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s WHERE vehicle_id = %s",
        (owner.user_id, tenants["vehicle_a"]),
    )
    first = _alert(conn, tenants["vehicle_a"])
    _alert(conn, tenants["vehicle_b"])  # not the owner's
    order = _order(conn, tenants["vehicle_a"], tenants["shop_a"])
    events = _sse(client, owner.headers | {"Last-Event-ID": "0"}, max_events=2)
    assert [
        (e[1], e[2]["data"].get("alert_id") or e[2]["data"].get("order_id")) for e in events
    ] == [
        ("alert.raised", first),
        ("order.created", order),
    ]
    # A reconnect after the first event gets the second again, and then a new one.
    conn.execute("UPDATE service_orders SET status = 'cancelled' WHERE order_id = %s", (order,))
    resumed = _sse(client, owner.headers | {"Last-Event-ID": str(events[0][0])}, max_events=2)
    assert [e[1] for e in resumed] == ["order.created", "order.status_changed"]
    only = _sse(
        client,
        owner.headers | {"Last-Event-ID": "0"},
        types=["order.status_changed"],
        max_events=1,
    )
    assert [e[2]["data"]["status"] for e in only] == ["cancelled"]
    # Another owner, of the other vehicle, sees only that vehicle's events (two alerts).
    stranger = make_caller(conn, "owner")
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s WHERE vehicle_id = %s",
        (stranger.user_id, tenants["vehicle_b"]),
    )
    _alert(conn, tenants["vehicle_b"], tier="due_now")
    theirs = _sse(client, stranger.headers | {"Last-Event-ID": "0"}, max_events=2)
    assert {e[2]["data"]["vehicle_id"] for e in theirs} == {tenants["vehicle_b"]}
    bad = client.get("/events", headers=stranger.headers | {"Last-Event-ID": "x"})
    assert bad.status_code == 422
