# SPDX-License-Identifier: MIT
"""An API client on the real test database."""

import pytest
from fastapi.testclient import TestClient

from api import create_app


@pytest.fixture
def client(db_url):
    """A TestClient whose app runs its lifespan (pool open) for the test's duration."""
    with TestClient(create_app(db_url)) as test_client:
        yield test_client
