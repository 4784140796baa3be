# SPDX-License-Identifier: MIT
"""The evaluator process: LISTEN for new vehicle data, evaluate, poll as a fallback.

Ingest runs ``pg_notify('wl_vehicle_data', vehicle_id)`` after each commit. Notifications
are lost while we are disconnected, and PostgreSQL drops them if our queue overflows, so a
periodic sweep of ``pending_vehicles`` catches whatever the notifications missed.

Several evaluators can run: each leases shards of the vehicles (``predictive.leases``) and
evaluates, from notifications and sweeps alike, only vehicles of the shards it holds, a chunk
at a time with the set-based pass (``bulk.py``). Every evaluator receives every notification
and ignores the others'. Gaining shards (at start, or taking over a crashed evaluator's)
triggers a sweep of them at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from predictive.evaluator import evaluate_vehicles, pending_vehicles
from predictive.leases import (
    LEASE_TTL_S,
    default_owner,
    heartbeat,
    release,
    shard_count,
    shard_of,
)

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


class _Shards:
    """The shards this evaluator holds, renewed every third of the lease time."""

    def __init__(
        self, conn: psycopg.Connection, owner: str, ttl_s: float, max_shards: int | None
    ) -> None:
        self.conn, self.owner, self.ttl_s, self.max_shards = conn, owner, ttl_s, max_shards
        self.renew_s = ttl_s / 3.0
        self.count = shard_count(conn)
        self.held: frozenset[int] = frozenset()
        self._last = float("-inf")

    def beat(self) -> bool:
        """Renew (and rebalance) if due; True if shards were gained."""
        if time.monotonic() - self._last < self.renew_s:
            return False
        held = frozenset(
            heartbeat(self.conn, self.owner, ttl_s=self.ttl_s, max_shards=self.max_shards)
        )
        self._last = time.monotonic()
        if held != self.held:
            log.info("evaluator %s holds %d shards", self.owner, len(held))
        gained = bool(held - self.held)
        self.held = held
        return gained

    def holds(self, vehicle_id: int) -> bool:
        return shard_of(vehicle_id, self.count) in self.held


def _serve(
    database_url: str,
    stop_event: threading.Event,
    poll_interval_s: float,
    clock: Callable[[], datetime],
    thresholds: dict[str, Any],
    owner: str,
    lease_ttl_s: float,
    max_shards: int | None,
) -> None:
    with (
        psycopg.connect(database_url, autocommit=True, application_name="wl-evaluator") as listen,
        psycopg.connect(database_url, autocommit=True, application_name="wl-evaluator") as work,
    ):
        listen.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        shards = _Shards(work, owner, lease_ttl_s, max_shards)

        def evaluate(vehicle_ids: list[int]) -> None:
            mine = [vid for vid in vehicle_ids if shards.holds(vid)]  # others' are not ours

            def next_chunk() -> bool:
                # Renew between chunks: a long sweep must not let the leases lapse.
                shards.beat()
                return not stop_event.is_set()

            if mine:
                evaluate_vehicles(
                    conn=work,
                    vehicle_ids=mine,
                    now=clock(),
                    lease_owner=owner,
                    between_chunks=next_chunk,
                    **thresholds,
                )

        last_poll = float("-inf")
        try:
            while not stop_event.is_set():
                if shards.beat():
                    last_poll = float("-inf")  # sweep the shards just taken over at once
                if time.monotonic() - last_poll >= poll_interval_s:
                    if shards.held:
                        evaluate(pending_vehicles(conn=work, shards=sorted(shards.held)))
                    last_poll = time.monotonic()
                timeout = min(LISTEN_TIMEOUT_S, shards.renew_s)
                payloads = [n.payload for n in listen.notifies(timeout=timeout)]
                evaluate(sorted(_vehicle_ids(payloads)))
        finally:
            if not work.closed:
                try:
                    release(work, owner)
                except psycopg.Error as exc:  # the leases expire on their own
                    log.warning("evaluator %s could not release its shards: %s", owner, exc)


def run_evaluator(
    database_url: str,
    *,
    stop_event: threading.Event,
    poll_interval_s: float = POLL_INTERVAL_S,
    clock: Callable[[], datetime] = _utcnow,
    owner: str | None = None,
    max_shards: int | None = None,
    lease_ttl_s: float = LEASE_TTL_S,
    **thresholds: Any,
) -> None:
    """Evaluate vehicles of the shards this evaluator leases as their data arrives, until
    ``stop_event`` is set; then give the shards back.

    ``owner`` names this evaluator in ``evaluator_shards`` (default: host, pid and a random
    suffix); ``max_shards`` caps how many it holds (default: its fair share); leases last
    ``lease_ttl_s`` and are renewed every third of it. ``clock`` is the evaluation time
    passed to the models; lease times are the database's.
    """
    me = owner or default_owner()
    while not stop_event.is_set():
        try:
            _serve(
                database_url,
                stop_event,
                poll_interval_s,
                clock,
                thresholds,
                me,
                lease_ttl_s,
                max_shards,
            )
        except psycopg.OperationalError as exc:
            # The database restarted or the network dropped; the sweep on reconnect catches up.
            log.warning("evaluator lost its database connection: %s", exc)
            stop_event.wait(RECONNECT_DELAY_S)
