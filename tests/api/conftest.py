# SPDX-License-Identifier: MIT
"""API clients on the real test database, and callers of each role and tenant."""

from __future__ import annotations

import pytest
from api_helpers import AUTH, Caller, make_caller
from fastapi.testclient import TestClient

from api import create_app


@pytest.fixture
def client(db_url):
    """An unauthenticated TestClient whose app runs its lifespan for the test's duration."""
    with TestClient(create_app(db_url, auth=AUTH)) as test_client:
        yield test_client


@pytest.fixture
def admin(conn) -> Caller:
    """An admin, who sees everything."""
    return make_caller(conn, "admin")


@pytest.fixture
def admin_client(client, admin):
    """The client, calling as the admin."""
    client.headers.update(admin.headers)
    return client
