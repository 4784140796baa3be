# SPDX-License-Identifier: MIT
"""For the notification tests: the dispatcher's configuration, events raised through the real
outbox triggers, and a local HTTP receiver standing in for an Apprise service."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from psycopg.types.json import Jsonb

import web
from api import create_app
from api.ratelimit import RateLimits
from api.webhooks.network import WebhookConfig
from web.notify.dispatch import NotifyConfig, pass_once
from web.pages import Pages

BASE_URL = "http://testserver"
_pages: Pages | None = None


def pages() -> Pages:
    """The templates and catalogues, loaded once for the module's tests."""
    global _pages
    if _pages is None:
        _pages = Pages()
    return _pages


def notify_app(
    db_url: str,
    smtp_url: str,
    *,
    allow: tuple[str, ...] = (),
    demo_mailbox: bool = False,
    base_url: str = BASE_URL,
):
    """The API with the web app, whose operator allows ``allow`` as private destinations and
    which shows the demo's mailbox when ``demo_mailbox``."""
    from web_helpers import AUTH

    api = create_app(
        db_url,
        auth=AUTH,
        rate_limits=RateLimits(logins_per_client="100/minute"),
        webhooks=WebhookConfig(allow_private=allow),
    )
    config = web.WebConfig(
        smtp_url=smtp_url,
        mail_from="Wrenchlight <wl@test>",
        base_url=base_url,
        demo_mailbox=demo_mailbox,
    )
    return web.mount(api, config)


def notify_config(smtp_url: str | None, *, allow_private: tuple[str, ...] = ()) -> NotifyConfig:
    """The dispatcher's configuration for the tests' SMTP server and app address."""
    return NotifyConfig(
        smtp_url=smtp_url,
        base_url=BASE_URL,
        mail_from="Wrenchlight <wl@test>",
        network=WebhookConfig(allow_private=allow_private),
    )


def dispatch(conn, config: NotifyConfig, now: datetime) -> dict[str, int]:
    """One round of the dispatcher at ``now``."""
    return pass_once(conn, pages(), config, now=now)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Wait until ``condition()`` holds, looking every 50 ms; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout_s} s"
        time.sleep(0.05)


def settle_outbox(conn) -> None:
    """Mark every event so far as told (the fixtures' own events, such as make_car's code)."""
    conn.execute("UPDATE outbox SET notified_at = now() WHERE notified_at IS NULL")


def raise_alert(
    conn,
    vehicle_id: int,
    *,
    kind: str = "oil_change",
    tier: str = "change_soon",
    severity: str = "warning",
    message: str = "Oil life at 14 %",
) -> int:
    """An alert inserted as the evaluator does; its trigger writes ``alert.raised``."""
    row = conn.execute(
        "INSERT INTO alerts (vehicle_id, kind, severity, message, tier, evidence) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING alert_id",
        (vehicle_id, kind, severity, message, tier, Jsonb({})),
    ).fetchone()
    return int(row[0])


def deliveries(conn, user_id: int) -> list[tuple[Any, ...]]:
    """(event kind, channel kind, status, attempts) of the user's deliveries, oldest first."""
    return conn.execute(
        "SELECT d.event_kind, c.kind, d.status, d.attempts FROM notify_deliveries d "
        "JOIN notify_channels c USING (channel_id) WHERE d.user_id = %s ORDER BY d.delivery_id",
        (user_id,),
    ).fetchall()


def bodies(message: EmailMessage) -> tuple[str, str]:
    """The plain text and the HTML of a mail."""
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def app_links(text: str) -> list[str]:
    """The app's addresses in a text, in order."""
    return re.findall(rf"{re.escape(BASE_URL)}/app/\S+", text)


@dataclass
class HttpReceiver:
    """A local HTTP server keeping every POST: an Apprise json:// service's receiving end."""

    status: int = 200
    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> int:
        """Start it on a free port of 127.0.0.1; the port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver.arrived:
                    receiver.received.append({"path": self.path, "body": json.loads(body or b"{}")})
                    receiver.arrived.notify_all()
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return int(self._server.server_address[1])

    def stop(self) -> None:
        """Stop it."""
        self._server.shutdown()
        self._server.server_close()
