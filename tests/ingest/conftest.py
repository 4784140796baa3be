# SPDX-License-Identifier: MIT
"""Fixtures for ingest tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from ingest_support import Device, register
from private_servers import broker_of_its_own


@pytest.fixture
def device(conn: psycopg.Connection, unique_id: str) -> Device:
    """A registered device with a unique id."""
    return register(conn, f"{unique_id}-dev")


@pytest.fixture
def quiet_broker(mqtt_url: str) -> Iterator[str]:
    """A broker only this test publishes to: a private Mosquitto, else the shared broker.

    Ingest workers subscribe to every device's topics, so on the shared broker they would
    also take whatever other test runs publish, and a stalled worker's queue would fill
    with it (Mosquitto drops QoS 1 messages beyond ``max_queued_messages``).
    """
    with broker_of_its_own(mqtt_url) as url:
        yield url
