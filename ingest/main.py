# SPDX-License-Identifier: MIT
"""Running ingest as a service: N workers in one process until SIGINT or SIGTERM."""

from __future__ import annotations

import logging
import socket

from ingest.consumer import IngestWorker, run_forever

log = logging.getLogger(__name__)


def default_client_id(index: int = 0) -> str:
    """A client id stable across restarts of this host, so the broker resumes its session."""
    return f"wl-ingest-{socket.gethostname()}-{index}"


def run(database_url: str, mqtt_url: str, *, workers: int = 1) -> None:
    """Consume telemetry into the database with ``workers`` group members until signalled."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    run_forever(
        [
            IngestWorker(database_url, mqtt_url, client_id=default_client_id(i))
            for i in range(workers)
        ]
    )
