# SPDX-License-Identifier: MIT
"""Waiting helpers shared by the edge agent's tests (they run real threads and processes)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def eventually(predicate: Callable[[], object], timeout_s: float = 10.0) -> bool:
    """Poll ``predicate`` until it is true or ``timeout_s`` passes; return its last verdict."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str) -> None:
    """Like ``eventually``, but fail the test naming what never happened."""
    if not eventually(predicate, timeout_s):
        pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
