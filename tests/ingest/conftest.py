# SPDX-License-Identifier: MIT
"""Fixtures for ingest tests."""

from __future__ import annotations

import psycopg
import pytest
from ingest_support import Device, register


@pytest.fixture
def device(conn: psycopg.Connection, unique_id: str) -> Device:
    """A registered device with a unique id."""
    return register(conn, f"{unique_id}-dev")
