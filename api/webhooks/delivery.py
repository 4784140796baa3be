# SPDX-License-Identifier: MIT
"""Delivering the outbox: fan each event out to the subscriptions that want it, then POST the
due deliveries, signed, retrying with backoff, every attempt logged.

Triggers write events into ``outbox`` in the transaction of the change they report (revision
0007), so nothing is announced that did not happen and nothing that happened is missed, even
when the delivery worker is down. Delivery is at least once: a receiver sees the same
``webhook-id`` again when an answer got lost, and should drop repeats.

The retry schedule lives in the database (``next_attempt_at``), not in a retry library's
in-process loop, because a delivery must keep its place across delivery worker restarts
and several workers share the table (``FOR UPDATE SKIP LOCKED``). Every function takes ``now``,
so tests drive the schedule with their own clock.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import httpx2
import psycopg
from psycopg import sql

from api import access
from api.webhooks import signing
from api.webhooks.network import UnsafeDestination, WebhookConfig, client
from api.webhooks.schemas import EventType
from db.rows import records, scalars

log = logging.getLogger(__name__)

EVENT_TYPES: tuple[str, ...] = get_args(EventType)
CHANNEL = "wl_outbox"
# Wait after failed attempt n (1-based) before attempt n + 1; after the last, give up. About
# ten hours in all, so a receiver down for a night's maintenance still gets everything.
RETRY_SCHEDULE = tuple(
    timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 2 * 3600, 6 * 3600)
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
# A claimed delivery is retried by anyone after this long (its worker died mid-request).
CLAIM = timedelta(seconds=60)
TIMEOUT_S = 5.0
# What the log says of a failed attempt. Never the receiver's answer nor the reason a
# connection failed: both would let a subscriber read, or map the ports of, whatever the URL
# points at. The receiver's own logs have the details.
UNREACHABLE = "the receiver could not be reached or did not answer in time"
# The same words whatever the reason (api.webhooks.network.NOT_PUBLIC); the reason is logged.
REFUSED = (
    "refused: the destination is not on the public internet; an operator can "
    "allow it with WRENCHLIGHT_WEBHOOK_ALLOW_PRIVATE"
)


@dataclass(frozen=True)
class Attempt:
    """The outcome of one HTTP attempt."""

    delivery_id: int
    attempt: int
    status_code: int | None
    error: str | None
    status: str  # of the delivery afterwards: pending, delivered or failed


@dataclass(frozen=True, slots=True)
class _Claimed:
    """A due delivery this worker claimed: where it goes, and the event it carries."""

    delivery_id: int
    attempt: int
    url: str
    secret: str
    event_id: int
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]


# Who gets an event: an admin's unscoped subscription everything; a fleet's its vehicles' (no
# offers); a shop's its offers, and an order's events only while its staff may see the order
# (``api.access.shop_seeing_order``): the order's shop_id alone may be the matcher's proposal,
# which the shop has not been offered yet. Decided when the event is fanned out.
FAN_OUT = sql.SQL(
    "INSERT INTO webhook_deliveries (subscription_id, event_id, next_attempt_at) "
    "SELECT s.subscription_id, o.event_id, %s FROM outbox o "
    "JOIN webhook_subscriptions s ON s.active AND o.event_type = ANY(s.event_types) "
    " AND ((s.fleet_id IS NULL AND s.shop_id IS NULL) "
    "      OR s.fleet_id = o.fleet_id OR s.shop_id = o.shop_id) "
    " AND (o.event_type NOT LIKE 'offer.%%' OR s.fleet_id IS NULL) "
    " AND (s.shop_id IS NULL OR o.event_type NOT LIKE 'order.%%' OR EXISTS ("
    "      SELECT 1 FROM service_orders so "
    "      WHERE so.order_id = (o.payload->>'order_id')::bigint AND {sees})) "
    "WHERE o.event_id = ANY(%s) ON CONFLICT (subscription_id, event_id) DO NOTHING"
).format(sees=access.shop_seeing_order(sql.SQL("s.shop_id"), sql.SQL("so")))


def fan_out(conn: psycopg.Connection, *, now: datetime, limit: int = 500) -> int:
    """Turn up to ``limit`` new events into deliveries, one per matching active subscription
    (its event types, and its fleet or shop if it has one); returns the events taken. An offer
    goes to its shop's subscriptions (and an admin's unscoped ones), never to the fleet's:
    as on the live stream (``api.access.events``), which shops an order was offered to is the
    shops' own business."""
    with conn.transaction():
        ids = scalars(
            conn,
            "SELECT event_id FROM outbox WHERE fanned_out_at IS NULL ORDER BY event_id "
            "LIMIT %s FOR UPDATE SKIP LOCKED",
            (limit,),
        )
        if not ids:
            return 0
        conn.execute(FAN_OUT, (now, ids))
        conn.execute("UPDATE outbox SET fanned_out_at = %s WHERE event_id = ANY(%s)", (now, ids))
    return len(ids)


def _claim(conn: psycopg.Connection, now: datetime, limit: int) -> list[_Claimed]:
    with conn.transaction():
        return records(
            conn,
            _Claimed,
            "WITH due AS ("
            " SELECT delivery_id FROM webhook_deliveries"
            " WHERE status = 'pending' AND next_attempt_at <= %(now)s"
            " ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED"
            "), claimed AS ("
            " UPDATE webhook_deliveries d SET attempts = d.attempts + 1,"
            "  next_attempt_at = %(now)s + %(claim)s"
            " FROM due WHERE d.delivery_id = due.delivery_id"
            " RETURNING d.delivery_id, d.attempts, d.subscription_id, d.event_id"
            ") SELECT c.delivery_id, c.attempts AS attempt, s.url, s.secret, o.event_id,"
            " o.event_type, o.occurred_at, o.payload FROM claimed c"
            " JOIN webhook_subscriptions s USING (subscription_id)"
            " JOIN outbox o USING (event_id) ORDER BY c.delivery_id",
            {"now": now, "limit": limit, "claim": CLAIM},
        )


def body_of(event_type: str, occurred_at: datetime, payload: dict[str, Any]) -> bytes:
    """The JSON body of an event's delivery (the Standard Webhooks envelope)."""
    envelope = {"type": event_type, "timestamp": occurred_at.isoformat(), "data": payload}
    return json.dumps(envelope, separators=(",", ":"), default=str).encode()


def _post(
    client: httpx2.Client, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int | None, str | None]:
    try:
        # Streamed and closed unread: the body is never read, so never stored or shown.
        with client.stream("POST", url, content=body, headers=headers, timeout=TIMEOUT_S) as r:
            code = r.status_code
    except UnsafeDestination as exc:
        log.info("webhook delivery to %r refused: %s", url, exc.detail)
        return None, REFUSED
    except httpx2.InvalidURL:
        return None, "refused: the URL is not valid"
    except httpx2.HTTPError:
        return None, UNREACHABLE
    if 200 <= code < 300:
        return code, None
    if 300 <= code < 400:
        return code, f"HTTP {code}: redirects are not followed"
    return code, f"HTTP {code}"


def deliver_due(
    conn: psycopg.Connection, client: httpx2.Client, *, now: datetime, limit: int = 50
) -> list[Attempt]:
    """POST up to ``limit`` due deliveries once each with ``client`` (``network.client``, which
    refuses non-public destinations); returns what happened.

    2xx: delivered. 410 Gone: the receiver asked to stop; the delivery fails and the
    subscription is disabled. Anything else (another status, a timeout, a refused connection)
    is retried after the next step of RETRY_SCHEDULE, and fails after MAX_ATTEMPTS.
    """
    results = []
    for due in _claim(conn, now, limit):
        delivery_id, attempt, url = due.delivery_id, due.attempt, due.url
        body = body_of(due.event_type, due.occurred_at, due.payload)
        headers = {
            "content-type": "application/json",
            "user-agent": "Wrenchlight-Webhooks/1",
            **signing.headers(due.secret, f"evt_{due.event_id}", int(now.timestamp()), body),
        }
        started = time.perf_counter()
        code, error = _post(client, url, body, headers)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if code is not None and 200 <= code < 300:
            status, next_at = "delivered", None
        elif code == 410 or attempt >= MAX_ATTEMPTS:
            status, next_at = "failed", None
        else:
            status, next_at = "pending", now + RETRY_SCHEDULE[attempt - 1]
        with conn.transaction():
            conn.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, "
                "duration_ms, error) VALUES (%s, %s, %s, %s, %s, %s)",
                (delivery_id, attempt, now, code, elapsed_ms, error),
            )
            conn.execute(
                "UPDATE webhook_deliveries SET status = %s, next_attempt_at = %s, "
                "delivered_at = CASE WHEN %s = 'delivered' THEN %s END WHERE delivery_id = %s",
                (status, next_at, status, now, delivery_id),
            )
            if code == 410:
                conn.execute(
                    "UPDATE webhook_subscriptions SET active = false, disabled_reason = %s "
                    "WHERE subscription_id = (SELECT subscription_id FROM webhook_deliveries "
                    "WHERE delivery_id = %s)",
                    ("the receiver answered 410 Gone", delivery_id),
                )
        if status != "delivered":
            log.warning(
                "webhook delivery %s attempt %s to %s: %s",
                delivery_id,
                attempt,
                url,
                error or f"HTTP {code}",
            )
        results.append(Attempt(delivery_id, attempt, code, error, status))
    return results


def run(
    database_url: str,
    *,
    stop: threading.Event,
    poll_s: float = 1.0,
    config: WebhookConfig | None = None,
) -> None:
    """Deliver until ``stop`` is set: fan out and deliver whenever an event is announced
    (LISTEN ``wl_outbox``) and at least every ``poll_s`` for the retries that come due.
    ``config`` says which non-public receivers the operator allows (default: none)."""
    http = client(config or WebhookConfig())
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
            while not stop.is_set():
                now = datetime.now(UTC)
                fan_out(conn, now=now)
                while deliver_due(conn, http, now=datetime.now(UTC)):
                    if stop.is_set():
                        return
                for _ in conn.notifies(timeout=poll_s, stop_after=1):
                    pass
    finally:
        http.close()
