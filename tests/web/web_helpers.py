# SPDX-License-Identifier: MIT
"""People and cars for the web tests: owners with passwords, cars with a health to show, and
a real SMTP server that keeps what it receives."""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from psycopg.types.json import Jsonb

import web
from api import create_app
from api.auth import AuthConfig
from api.auth.users import create_user
from api.main import temporary_evidence
from api.ratelimit import RateLimits
from db.registry import create_vehicle
from wrenchlight.embedded import free_port

AUTH = AuthConfig(jwt_secret="web-tests-only-signing-secret-of-48-bytes-012345")
PASSWORD = "correct horse battery staple"
_serial = itertools.count(1)


def web_app(
    db_url: str,
    smtp_url: str | None,
    *,
    logins: str = "100/minute",
    base_url: str = "http://testserver",
):
    """The API application with the web app mounted, as the server serves it; report evidence
    in a temporary directory of its own, its verify links at ``base_url``."""
    evidence = replace(temporary_evidence(), base_url=base_url)
    api = create_app(
        db_url, auth=AUTH, rate_limits=RateLimits(logins_per_client=logins), evidence=evidence
    )
    config = web.WebConfig(smtp_url=smtp_url, mail_from="Wrenchlight <wl@test>", base_url=base_url)
    return web.mount(api, config)


@dataclass(frozen=True)
class Person:
    """A user who signs in with ``email`` and ``PASSWORD``."""

    user_id: int
    email: str


def make_owner(conn, name: str = "owner", *, email: str | None = None) -> Person:
    """A new owner with a password (``email``: this one, else a unique one)."""
    email = email or f"{name}-{next(_serial)}-{time.monotonic_ns()}@example.test"
    return Person(create_user(conn=conn, email=email, role="owner", password=PASSWORD), email)


def make_car(conn, owner: Person, *, vin: str, oil_pct: float = 14.2, now: datetime | None = None):
    """A car of ``owner`` with an oil and a brake prediction, a state and a trouble code; its
    times relative to ``now`` (default: the moment the test runs)."""
    now = now or datetime.now(UTC)
    vehicle_id = create_vehicle(conn, vin=vin, make="Volkswagen", model="Golf", model_year=2019)
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s WHERE vehicle_id = %s", (owner.user_id, vehicle_id)
    )
    conn.execute(
        "INSERT INTO vehicle_state (vehicle_id, last_seen, odometer_km, latest) "
        "VALUES (%s, %s, 48213.4, %s)",
        (vehicle_id, now - timedelta(minutes=5), Jsonb({"coolant_temp_c": 88.0})),
    )
    # About 43 km per percent of oil life and 45 km a day (9.2 % from 14.2 % to 5 %: 395 km).
    projection = {
        tier: {
            "threshold": level,
            "km": max(0.0, round((oil_pct - level) * 43.0)),
            "date": (now + timedelta(days=max(0.0, (oil_pct - level) * 43.0 / 45))).isoformat(),
            "reached": oil_pct <= level,
        }
        for tier, level in (("change_soon", 15.0), ("due_now", 5.0), ("overdue", 0.0))
    }
    band = [round(oil_pct - 1.3, 1), round(oil_pct + 1.2, 1)]
    evidence = {"projection": projection, "learned": {"band_pct": band}}
    _predict(conn, vehicle_id, "oil_life", oil_pct, "%", round(oil_pct * 43.0), evidence, now)
    _predict(
        conn,
        vehicle_id,
        "brake_pads",
        6.1,
        "mm",
        19800.0,
        {"pad_front_mm": 6.1, "pad_rear_mm": 8.3},
        now,
    )
    conn.execute(
        "INSERT INTO alerts (vehicle_id, kind, severity, message, tier, evidence) "
        "VALUES (%s, 'trouble_code', 'warning', 'P0301: cylinder 1 misfire detected', "
        "'high', '{}')",
        (vehicle_id,),
    )
    return vehicle_id


def _predict(conn, vehicle_id, model, value, unit, remaining_km, evidence, now):
    conn.execute(
        "INSERT INTO predictions (vehicle_id, model, model_version, time, value, unit, "
        "remaining_km, evidence) VALUES (%s, %s, 'test', %s, %s, %s, %s, %s)",
        (vehicle_id, model, now, value, unit, remaining_km, Jsonb(evidence)),
    )


class Mailbox:
    """An aiosmtpd handler keeping every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the message."""
        message = message_from_bytes(envelope.content or b"", policy=policy.default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, to: str, timeout_s: float = 10.0) -> EmailMessage:
        """The first message to ``to``, waiting for it to arrive."""
        with self._arrived:
            found = self._arrived.wait_for(
                lambda: next((m for m in self.messages if to in str(m["To"])), None),
                timeout=timeout_s,
            )
        assert found is not None, f"no mail to {to} within {timeout_s} s"
        return found

    def wait_for_count(self, to: str, count: int, timeout_s: float = 10.0) -> None:
        """Wait until ``count`` messages to ``to`` have arrived."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.to(to)) >= count, timeout=timeout_s)
        assert arrived, f"{len(self.to(to))} of {count} mails to {to} within {timeout_s} s"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages sent to ``address`` so far."""
        return [m for m in self.messages if address in str(m["To"])]


def link_in(message: EmailMessage) -> str:
    """The sign-in link of a mail."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"https?://\S+/signin/link\?token=\S+", body.get_content())
    assert found is not None, body.get_content()
    return found.group(0)


class SmtpServer:
    """aiosmtpd on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> str:
        """Start it; returns its smtp:// URL."""
        self._controller.start()
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop it."""
        self._controller.stop()
