# SPDX-License-Identifier: MIT
"""The evaluator process: LISTEN for new vehicle data, evaluate, poll as a fallback.

Ingest runs ``pg_notify('wl_vehicle_data', vehicle_id)`` after each commit. Notifications
are lost while we are disconnected, and PostgreSQL drops them if our queue overflows, so a
periodic ``evaluate_pending`` sweep catches whatever the notifications missed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from predictive.evaluator import evaluate_pending, evaluate_vehicle
from predictive.health import PredictiveError

log = logging.getLogger(__name__)

CHANNEL = "wl_vehicle_data"
# How long one wait for notifications lasts: also how quickly ``stop_event`` is honoured.
LISTEN_TIMEOUT_S = 1.0
# The sweep that covers lost notifications. Evaluating is cheap when nothing changed.
POLL_INTERVAL_S = 30.0
# Back-off before reconnecting after the database went away.
RECONNECT_DELAY_S = 2.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _vehicle_ids(payloads: list[str]) -> set[int]:
    ids = set()
    for payload in payloads:
        try:
            ids.add(int(payload))
        except ValueError:
            log.warning("ignoring notification with payload %r", payload)
    return ids


def _serve(
    database_url: str,
    stop_event: threading.Event,
    poll_interval_s: float,
    clock: Callable[[], datetime],
    thresholds: dict[str, Any],
) -> None:
    with (
        psycopg.connect(database_url, autocommit=True, application_name="wl-evaluator") as listen,
        psycopg.connect(database_url, autocommit=True, application_name="wl-evaluator") as work,
    ):
        listen.execute(f"LISTEN {CHANNEL}")
        last_poll = float("-inf")
        while not stop_event.is_set():
            if time.monotonic() - last_poll >= poll_interval_s:
                evaluate_pending(conn=work, now=clock(), **thresholds)
                last_poll = time.monotonic()
            payloads = [n.payload for n in listen.notifies(timeout=LISTEN_TIMEOUT_S)]
            for vehicle_id in sorted(_vehicle_ids(payloads)):
                try:
                    evaluate_vehicle(conn=work, vehicle_id=vehicle_id, now=clock(), **thresholds)
                except PredictiveError as exc:
                    log.warning("evaluating vehicle %s failed: %s", vehicle_id, exc)


def run_evaluator(
    database_url: str,
    *,
    stop_event: threading.Event,
    poll_interval_s: float = POLL_INTERVAL_S,
    clock: Callable[[], datetime] = _utcnow,
    **thresholds: Any,
) -> None:
    """Evaluate vehicles as their data arrives until ``stop_event`` is set."""
    while not stop_event.is_set():
        try:
            _serve(database_url, stop_event, poll_interval_s, clock, thresholds)
        except psycopg.OperationalError as exc:
            # The database restarted or the network dropped; the sweep on reconnect catches up.
            log.warning("evaluator lost its database connection: %s", exc)
            stop_event.wait(RECONNECT_DELAY_S)
