# SPDX-License-Identifier: MIT
"""An API client on the real test database.

Starlette's test client now prefers the ``httpx2`` package and warns (an error here, since
warnings are errors) when it falls back to ``httpx``, which is what the project installs today.
The fallback works; we silence exactly that warning at import until ``httpx2`` joins the dev
dependencies.
"""

import warnings

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from api import create_app


@pytest.fixture
def client(db_url):
    """A TestClient whose app runs its lifespan (pool open) for the test's duration."""
    with TestClient(create_app(db_url)) as test_client:
        yield test_client
