# SPDX-License-Identifier: MIT
"""The demo's mail server: aiosmtpd on a free port of 127.0.0.1, keeping every message it
receives in the database (``demo_mail``), where the web app's demo mailbox page reads it.

One row per Message-ID: a message sent again with the same Message-ID (a dispatcher that
died before the server's answer reached it, then retried) counts as a second copy of the one
message, not a second message, as a mail provider that deduplicates would show it. A message
without a Message-ID gets one here.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy

import psycopg
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from wrenchlight.embedded import free_port


class DatabaseMailbox:
    """An aiosmtpd handler that stores each message in ``demo_mail``."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the message (a short blocking insert: the demo's mail is a trickle)."""
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        store(self.database_url, raw, str(envelope.mail_from or ""), list(envelope.rcpt_tos))
        return "250 OK"


def store(database_url: str, raw: bytes, mail_from: str, rcpt_to: list[str]) -> None:
    """Keep one received message (a repeat of its Message-ID counts a copy)."""
    message = message_from_bytes(raw, policy=policy.default)
    message_id = str(message["Message-ID"] or f"<demo-{uuid.uuid4().hex}@wrenchlight.invalid>")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO demo_mail (message_id, received_at, mail_from, rcpt_to, subject, raw) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (message_id) "
            "DO UPDATE SET copies = demo_mail.copies + 1",
            (
                message_id.strip(),
                datetime.now(UTC),
                mail_from,
                rcpt_to,
                " ".join(str(message["Subject"] or "").split()),
                raw,
            ),
        )


class DemoMailServer:
    """The demo's SMTP server; ``start`` returns its ``smtp://`` URL."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self._controller = Controller(
            DatabaseMailbox(database_url), hostname="127.0.0.1", port=self.port
        )

    def start(self) -> str:
        """Start it; its URL for ``WRENCHLIGHT_SMTP_URL``."""
        # aiosmtpd logs every SMTP command at INFO: the demo's console is for people.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller.start()
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop it."""
        self._controller.stop()
