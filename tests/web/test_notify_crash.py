# SPDX-License-Identifier: MIT
"""A dispatcher killed in the middle of a send gives the person one message, not two.

The SMTP server holds the DATA command (answers nothing) while the test kills the dispatcher
process with SIGKILL; a new dispatcher process then takes the delivery over once its claim
lapses. Two ways the kill can fall:

- ``commit_then_hold``: the server has kept the message and the dispatcher dies before the
  answer reaches it, the case no sender can rule out alone. It is sent again with the same
  Message-ID; the mailbox (the demo's, one row per Message-ID) holds one message, seen twice.
- ``hold_then_commit``: the dispatcher dies before the server kept anything; the server drops
  the message with the connection, and the new dispatcher's copy is the only one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from notify_helpers import raise_alert, settle_outbox, wait_for
from web_helpers import make_car, make_owner

from wrenchlight.embedded import free_port
from wrenchlight.mailbox import store

ROOT = Path(__file__).resolve().parents[2]


class HoldingMailbox:
    """Keeps mail in ``demo_mail``; the first DATA is held until ``release`` is set, after
    storing the message (``commit_first``) or before."""

    def __init__(self, database_url: str, *, commit_first: bool) -> None:
        self.database_url = database_url
        self.commit_first = commit_first
        self.holding = threading.Event()
        self.release = threading.Event()
        self.seen = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.seen += 1
        first = self.seen == 1
        if self.commit_first or not first:
            store(self.database_url, envelope.original_content or b"", "", envelope.rcpt_tos)
        if first:
            self.holding.set()
            # Cancelled here when the client's connection drops (aiosmtpd cancels the handler).
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        return "250 OK"


def dispatcher(db_url: str, smtp_port: int, log: Path) -> subprocess.Popen:
    """``wrenchlight notify run`` in a process of its own, with a two-second claim."""
    env = {
        **os.environ,
        # After the suite's own path (tests/clockshift under a clock shift, see child_clock).
        "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])),
        "WRENCHLIGHT_DATABASE_URL": db_url,
        "WRENCHLIGHT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "WRENCHLIGHT_MAIL_FROM": "Wrenchlight <wl@test>",
        "WRENCHLIGHT_WEB_BASE_URL": "http://testserver",
    }
    command = [sys.executable, "-m", "wrenchlight.cli", "notify", "run"]
    command += ["--claim", "2", "--poll", "0.2"]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)


@pytest.mark.child_clock
@pytest.mark.parametrize(
    "commit_first", [True, False], ids=["commit_then_hold", "hold_then_commit"]
)
def test_a_dispatcher_killed_mid_send_gives_one_message(db_url, conn, tmp_path, commit_first):
    owner = make_owner(conn)
    vehicle_id = make_car(conn, owner, vin="WVWZZZ1JZNTFY0201")
    settle_outbox(conn)
    mailbox = HoldingMailbox(db_url, commit_first=commit_first)
    port = free_port()
    server = Controller(mailbox, hostname="127.0.0.1", port=port)
    server.start()
    log = tmp_path / "dispatcher.log"
    first = second = None
    try:
        first = dispatcher(db_url, port, log)
        raise_alert(conn, vehicle_id)
        assert mailbox.holding.wait(60), log.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        mailbox.release.set()
        second = dispatcher(db_url, port, log)

        def delivered() -> bool:
            row = conn.execute("SELECT status FROM notify_deliveries").fetchone()
            return row is not None and row[0] == "delivered"

        wait_for(delivered, 60, "the delivery sent by the restarted dispatcher")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)
        server.stop()
    message_id, attempts = conn.execute(
        "SELECT message_id, attempts FROM notify_deliveries"
    ).fetchone()
    assert attempts == 2
    mails = conn.execute(
        "SELECT message_id, copies, subject FROM demo_mail WHERE %s = ANY(rcpt_to)",
        (owner.email,),
    ).fetchall()
    assert len(mails) == 1, mails
    assert mails[0][0] == message_id
    assert mails[0][1] == (2 if commit_first else 1)
    assert mails[0][2] == "Volkswagen Golf 2019: oil change due soon"
