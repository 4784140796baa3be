# SPDX-License-Identifier: MIT
"""Webhooks reach only the public internet (issue 15, finding 3): a real receiver on
127.0.0.1 that counts its requests is never reached under any spelling of loopback, neither
at registration nor at delivery nor by a redirect, unless the operator allows it; the
delivery log shows no body and no connection detail of a failed destination.

No test here sends anything off this machine: public addresses are only classified, never
connected to."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import factories
import httpcore2
import psycopg
import pytest
from api_helpers import AUTH, make_caller
from fastapi.testclient import TestClient

from api import create_app, webhooks
from api.webhooks import delivery as webhook_delivery
from api.webhooks.network import PinnedBackend, WebhookConfig, why_not_public
from api.webhooks.signing import new_secret
from api.webhooks.subscriptions import InvalidSubscription

NOW = datetime.now(UTC)
SECRET_BODY = "internal-service-secret-3141"


class Internal:
    """An 'internal service' on 127.0.0.1: counts requests, answers 500 with a secret body
    (or a redirect to ``redirect_to``)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.hits = 0
        self.redirect_to: str | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.hits += 1
                self.rfile.read(int(self.headers.get("content-length", 0)))
                if outer.redirect_to:
                    self.send_response(307)
                    self.send_header("location", outer.redirect_to)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                body = SECRET_BODY.encode()
                self.send_response(500)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        self.server = Server((host, 0), Handler)
        self.port = self.server.server_address[1]


@pytest.fixture
def internal() -> Iterator[Internal]:
    service = Internal()
    thread = threading.Thread(target=service.server.serve_forever, daemon=True)
    thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


def _spellings(port: int) -> list[str]:
    """URLs that all mean 127.0.0.1:port (or this machine) to some parser or resolver."""
    hosts = [
        "127.0.0.1",
        "2130706433",  # decimal
        "0x7f000001",  # hex
        "0177.0.0.1",  # octal
        "127.1",  # short form
        "127.0.0.2",  # anywhere in 127/8
        "0.0.0.0",  # unspecified: Linux connects it to this machine
        "[::1]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",  # NAT64
        "[2002:7f00:1::1]",  # 6to4
        "[::127.0.0.1]",  # IPv4-compatible (deprecated)
        "localhost",
        "LOCALHOST.",
        "wrenchlight.localhost",
    ]
    return [f"http://{host}:{port}/hook" for host in hosts]


@pytest.mark.parametrize("index", range(16))
def test_no_spelling_of_loopback_is_registered_or_reached(conn, internal, index):
    url = _spellings(internal.port)[index]
    with pytest.raises(InvalidSubscription, match="public internet"):
        webhooks.create(conn, url=url, event_types=["alert.raised"])
    # Stored behind the check's back (as by an older version): every delivery checks again.
    conn.execute(
        "INSERT INTO webhook_subscriptions (url, event_types, secret) "
        "VALUES (%s, '{alert.raised}', %s)",
        (url, new_secret()),
    )
    _raise_alert(conn)
    webhook_delivery.fan_out(conn, now=NOW)
    with webhooks.client(WebhookConfig()) as http:
        [attempt] = webhook_delivery.deliver_due(conn, http, now=NOW)
    assert internal.hits == 0
    assert attempt.status_code is None and attempt.error is not None
    assert attempt.error.startswith("refused")
    assert str(internal.port) not in attempt.error and SECRET_BODY not in attempt.error


def _raise_alert(conn: psycopg.Connection) -> None:
    vehicle = factories.vehicle(conn).vehicle_id
    factories.alert(conn, vehicle, message="Oil life 14 %", tier="change_soon")


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.169.254",  # cloud metadata, link-local
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "198.18.0.1",  # benchmarking
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "2001:db8::1",
        "2001::1",  # Teredo
        "64:ff9b:1::a00:1",  # local-use NAT64
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
    ],
)
def test_private_and_reserved_ranges_are_not_public(address):
    assert why_not_public(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:4700::1111", "::ffff:93.184.215.14", "64:ff9b::808:808"]
)
def test_public_addresses_are(address):
    assert why_not_public(ipaddress.ip_address(address)) is None


def test_a_public_address_registers(conn):
    # Only registered: nothing delivers it, so no traffic leaves the machine.
    created = webhooks.create(conn, url="https://93.184.215.14/hook", event_types=["alert.raised"])
    assert created.subscription["url"] == "https://93.184.215.14/hook"


def test_with_the_allow_list_the_receiver_is_reached(conn, internal):
    allowed = WebhookConfig(allow_private=("127.0.0.0/8",))
    url = f"http://127.0.0.1:{internal.port}/hook"
    created = webhooks.create(conn, url=url, event_types=["alert.raised"], config=allowed)
    _raise_alert(conn)
    webhook_delivery.fan_out(conn, now=NOW)
    with webhooks.client(allowed) as http:
        [attempt] = webhook_delivery.deliver_due(conn, http, now=NOW)
    assert internal.hits == 1 and attempt.status_code == 500
    # Even from an allowed receiver, its answer's body is not shown in the log.
    [delivery] = webhooks.deliveries(conn, created.subscription["subscription_id"])
    assert delivery["log"][0]["error"] == "HTTP 500"
    assert SECRET_BODY not in str(delivery)
    # A host name on the list allows that name, whatever it resolves to.
    by_name = WebhookConfig(allow_private=("localhost",))
    webhooks.create(
        conn,
        url=f"http://localhost:{internal.port}/x",
        event_types=["alert.raised"],
        config=by_name,
    )
    with pytest.raises(ValueError, match="CIDR"):
        WebhookConfig(allow_private=("http://x/",))


def test_a_redirect_into_the_network_is_not_followed(conn, internal):
    # The first hop is allowed (an operator's private receiver), the second is not.
    second = Internal()
    thread = threading.Thread(target=second.server.serve_forever, daemon=True)
    thread.start()
    try:
        internal.redirect_to = f"http://127.0.0.2:{second.port}/admin"
        allowed = WebhookConfig(allow_private=("127.0.0.1",))
        url = f"http://127.0.0.1:{internal.port}/hook"
        webhooks.create(conn, url=url, event_types=["alert.raised"], config=allowed)
        _raise_alert(conn)
        webhook_delivery.fan_out(conn, now=NOW)
        with webhooks.client(allowed) as http:
            [attempt] = webhook_delivery.deliver_due(conn, http, now=NOW)
        assert internal.hits == 1 and second.hits == 0
        assert attempt.status_code == 307 and attempt.status == "pending"
        assert "redirects are not followed" in (attempt.error or "")
    finally:
        second.server.shutdown()
        second.server.server_close()


def test_the_connection_goes_to_the_address_that_was_checked(internal, monkeypatch):
    """DNS rebinding: the first answer is public, a later one loopback. The backend resolves
    once and connects to what it checked, so a second lookup cannot redirect it."""
    answers = iter(["93.184.215.14", "127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    connected: list[str] = []
    backend = PinnedBackend(WebhookConfig())

    def record(self, host, port, *args, **kwargs):
        connected.append(host)
        raise OSError("not connecting off this machine in a test")

    monkeypatch.setattr(httpcore2.SyncBackend, "connect_tcp", record)
    with pytest.raises(OSError):
        backend.connect_tcp("rebind.example", internal.port, timeout=1)
    # The connection was asked for the checked address, by number, never for the name.
    assert connected == ["93.184.215.14"]
    assert internal.hits == 0


def test_a_failed_destination_shows_no_body_or_port_detail(conn, internal):
    allowed = WebhookConfig(allow_private=("127.0.0.1",))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: connection refused
    for url in (f"http://127.0.0.1:{internal.port}/h", f"http://127.0.0.1:{closed_port}/h"):
        webhooks.create(conn, url=url, event_types=["alert.raised"], config=allowed)
    _raise_alert(conn)
    webhook_delivery.fan_out(conn, now=NOW)
    with webhooks.client(allowed) as http:
        attempts = webhook_delivery.deliver_due(conn, http, now=NOW)
    errors = sorted((a.error or "") for a in attempts)
    assert errors == sorted(["HTTP 500", webhook_delivery.UNREACHABLE])
    stored = conn.execute("SELECT string_agg(error, ' ') FROM webhook_attempts").fetchone()[0]
    assert SECRET_BODY not in stored and str(closed_port) not in stored
    assert "refused" not in stored.lower()


def test_the_api_refuses_loopback_with_problem_details(db_url, conn, internal):
    manager_fleet = factories.fleet(conn, name="ssrf").fleet_id
    manager = make_caller(conn, "fleet_manager", fleet_id=manager_fleet).headers
    with TestClient(create_app(db_url, auth=AUTH)) as client:
        for url in _spellings(internal.port):
            if "0177" in url:
                continue  # not a URL to pydantic's parser either: 422
            body = {"url": url, "event_types": ["alert.raised"]}
            response = client.post("/webhooks", json=body, headers=manager)
            assert response.status_code in (400, 422), (url, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        octal = {"url": f"http://0177.0.0.1:{internal.port}/", "event_types": ["alert.raised"]}
        assert client.post("/webhooks", json=octal, headers=manager).status_code in (400, 422)
    assert internal.hits == 0
    assert conn.execute("SELECT count(*) FROM webhook_subscriptions").fetchone() == (0,)


def test_the_cli_refuses_loopback_unless_the_operator_allows_it(db_url, internal, monkeypatch):
    from typer.testing import CliRunner

    from wrenchlight.cli import build_app

    app = build_app()

    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", db_url)
    monkeypatch.delenv("WRENCHLIGHT_WEBHOOK_ALLOW_PRIVATE", raising=False)
    url = f"http://2130706433:{internal.port}/hook"
    refused = CliRunner().invoke(app, ["webhooks", "add", url, "-e", "alert.raised"])
    assert refused.exit_code == 2 and "public internet" in refused.output
    monkeypatch.setenv("WRENCHLIGHT_WEBHOOK_ALLOW_PRIVATE", "10.0.0.0/8, 127.0.0.1")
    added = CliRunner().invoke(app, ["webhooks", "add", url, "-e", "alert.raised"])
    assert added.exit_code == 0, added.output


def test_an_allowed_ipv6_receiver_is_reached_and_refused_without_the_list(conn):
    service = Internal("::1")
    thread = threading.Thread(target=service.server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://[::1]:{service.port}/hook"
        allowed = WebhookConfig(allow_private=("::1/128",))
        webhooks.create(conn, url=url, event_types=["alert.raised"], config=allowed)
        _raise_alert(conn)
        webhook_delivery.fan_out(conn, now=NOW)
        with webhooks.client(WebhookConfig()) as http:
            [refused] = webhook_delivery.deliver_due(conn, http, now=NOW)
        assert service.hits == 0 and (refused.error or "").startswith("refused")
        conn.execute("UPDATE webhook_deliveries SET next_attempt_at = %s", (NOW,))
        with webhooks.client(allowed) as http:
            [reached] = webhook_delivery.deliver_due(conn, http, now=NOW)
        assert service.hits == 1 and reached.status_code == 500
    finally:
        service.server.shutdown()
        service.server.server_close()


# Names an internal DNS might hold, and what they resolve to. No resolver on this machine can
# be made to answer for them without editing its configuration (a hosts file or resolv.conf
# is the machine's, not a test's), so the tests below replace ``socket.getaddrinfo``, the one
# function api.webhooks.network resolves with, as the rebinding test above does.
INTERNAL_DNS = {
    "hook.example": ["10.0.0.1"],
    "db.example": ["127.0.0.1"],
    "meta.example": ["169.254.169.254"],
    "mixed.example": ["93.184.215.14", "192.168.1.10"],
    "v6.example": ["fd00::5"],
    "public.example": ["93.184.215.14"],
}


@pytest.fixture
def internal_dns(monkeypatch) -> None:
    real = socket.getaddrinfo

    def answer(host, port, *args, **kwargs):
        if host not in INTERNAL_DNS:
            return real(host, port, *args, **kwargs)
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in INTERNAL_DNS[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answer)


REFUSED_URLS = [
    "http://hook.example/h",
    "http://db.example:5432/h",
    "http://meta.example/latest/meta-data/",
    "http://mixed.example/h",
    "http://v6.example/h",
    "http://127.0.0.1/h",
    "http://localhost/h",
    "http://hooks.internal/h",
]


def test_every_refusal_of_a_non_public_destination_reads_the_same(conn, internal_dns, caplog):
    """Registration is no DNS oracle: whether a name is loopback, private, link-local, an
    IPv6 unique-local address or one of several answers, the tenant reads the same words."""
    messages = set()
    for url in REFUSED_URLS:
        with caplog.at_level("INFO"), pytest.raises(InvalidSubscription) as refused:
            webhooks.create(conn, url=url, event_types=["alert.raised"])
        text = str(refused.value).replace(repr(url), "URL")
        # The reason, before the fixed advice: no address class, no address.
        reason = text.split(". Webhooks go")[0]
        assert reason == "refused URL: the destination is not on the public internet", text
        messages.add(text)
    assert len(messages) == 1, messages
    # The operator's log keeps the reason.
    assert any("resolves to a private address" in r.getMessage() for r in caplog.records)
    # A public name still registers.
    created = webhooks.create(conn, url="https://public.example/h", event_types=["alert.raised"])
    assert created.subscription["url"] == "https://public.example/h"


def test_the_api_gives_one_problem_for_every_non_public_destination(db_url, conn, internal_dns):
    fleet = factories.fleet(conn, name="oracle").fleet_id
    manager = make_caller(conn, "fleet_manager", fleet_id=fleet).headers
    details = set()
    with TestClient(create_app(db_url, auth=AUTH)) as client:
        for url in REFUSED_URLS:
            body = {"url": url, "event_types": ["alert.raised"]}
            response = client.post("/webhooks", json=body, headers=manager)
            assert response.status_code == 400, (url, response.text)
            problem = response.json()
            details.add((problem["type"], problem["title"], problem["detail"].replace(url, "URL")))
    assert len(details) == 1, details
    assert conn.execute("SELECT count(*) FROM webhook_subscriptions").fetchone() == (0,)


def test_a_delivery_to_a_name_turned_private_is_refused_in_the_same_words(conn, internal_dns):
    for url in ("http://hook.example/h", "http://db.example/h"):
        conn.execute(
            "INSERT INTO webhook_subscriptions (url, event_types, secret) "
            "VALUES (%s, '{alert.raised}', %s)",
            (url, new_secret()),
        )
    _raise_alert(conn)
    webhook_delivery.fan_out(conn, now=NOW)
    with webhooks.client(WebhookConfig()) as http:
        attempts = webhook_delivery.deliver_due(conn, http, now=NOW)
    assert [a.error for a in attempts] == [webhook_delivery.REFUSED] * 2
