# SPDX-License-Identifier: MIT
"""Webhook subscriptions and their delivery log, as plain queries the routes and CLI share."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from api.webhooks.delivery import EVENT_TYPES
from api.webhooks.network import UnsafeDestination, WebhookConfig, check_url
from api.webhooks.signing import new_secret
from db.rows import a_dict, dicts, scalar

log = logging.getLogger(__name__)


class InvalidSubscription(ValueError):
    """A subscription that cannot be stored as asked (bad URL, unknown event type)."""


@dataclass(frozen=True)
class Created:
    """A new subscription and its signing secret, which is shown this once."""

    subscription: dict[str, Any]
    secret: str


_COLUMNS = sql.SQL(
    "subscription_id, url, event_types, fleet_id, shop_id, description, active, "
    "disabled_reason, created_at"
)


def create(
    conn: psycopg.Connection,
    *,
    url: str,
    event_types: list[str],
    fleet_id: int | None = None,
    shop_id: int | None = None,
    description: str | None = None,
    config: WebhookConfig | None = None,
) -> Created:
    """Store a subscription with a fresh secret; its URL must lead to the public internet or
    to a receiver ``config`` allows."""
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown or not event_types:
        raise InvalidSubscription(
            f"event types must be some of {', '.join(EVENT_TYPES)}; got {unknown or 'none'}"
        )
    if not url.startswith(("http://", "https://")):
        raise InvalidSubscription(f"url must be http(s): {url!r}")
    try:
        check_url(url, config or WebhookConfig())
    except UnsafeDestination as exc:
        # The same words for every non-public destination (``NOT_PUBLIC``): which class of
        # address a name resolves to is the operator's to read, in the log, not the tenant's.
        log.info("webhook URL %r refused: %s", url, exc.detail)
        raise InvalidSubscription(
            f"refused {url!r}: {exc}. Webhooks go to the public internet only: use a public "
            "receiver (an operator can allow private ones with WRENCHLIGHT_WEBHOOK_ALLOW_PRIVATE)"
        ) from exc
    if fleet_id is not None and shop_id is not None:
        raise InvalidSubscription("a subscription belongs to a fleet or a shop, not both")
    secret = new_secret()
    row = a_dict(
        conn,
        sql.SQL(
            "INSERT INTO webhook_subscriptions (url, event_types, secret, fleet_id, shop_id, "
            "description) VALUES (%s, %s, %s, %s, %s, %s) RETURNING {}"
        ).format(_COLUMNS),
        (url, sorted(set(event_types)), secret, fleet_id, shop_id, description),
    )
    assert row is not None
    return Created(row, secret)


def get(conn: psycopg.Connection, subscription_id: int) -> dict[str, Any] | None:
    """One subscription (without its secret), or None."""
    return a_dict(
        conn,
        sql.SQL("SELECT {} FROM webhook_subscriptions WHERE subscription_id = %s").format(_COLUMNS),
        (subscription_id,),
    )


def list_where(
    conn: psycopg.Connection, where: sql.Composable, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Subscriptions matching an access predicate over alias ``w``, oldest first."""
    return dicts(
        conn,
        sql.SQL("SELECT {} FROM webhook_subscriptions w WHERE {} ORDER BY subscription_id").format(
            _COLUMNS, where
        ),
        params,
    )


def delete(conn: psycopg.Connection, subscription_id: int) -> bool:
    """Remove a subscription and its pending deliveries; False if there was none."""
    deleted = scalar(
        conn,
        "DELETE FROM webhook_subscriptions WHERE subscription_id = %s RETURNING 1",
        (subscription_id,),
    )
    return deleted is not None


def deliveries(
    conn: psycopg.Connection, subscription_id: int, *, before: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The delivery log of a subscription, newest first, ``before`` a delivery id (keyset
    pagination): each delivery with its event and every attempt."""
    return dicts(
        conn,
        "SELECT d.delivery_id, d.event_id, o.event_type, d.status, d.attempts, "
        "d.next_attempt_at, d.delivered_at, COALESCE(("
        " SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'at', a.at,"
        "  'status_code', a.status_code, 'duration_ms', round(a.duration_ms::numeric, 1),"
        "  'error', a.error) ORDER BY a.attempt)"
        " FROM webhook_attempts a WHERE a.delivery_id = d.delivery_id), '[]') AS log "
        "FROM webhook_deliveries d JOIN outbox o USING (event_id) "
        "WHERE d.subscription_id = %s AND (%s::bigint IS NULL OR d.delivery_id < %s) "
        "ORDER BY d.delivery_id DESC LIMIT %s",
        (subscription_id, before, before, limit),
    )


def pending_events(conn: psycopg.Connection, *, since: datetime | None = None) -> int:
    """Events not yet fanned out (a delivery worker that keeps up holds this near zero)."""
    pending = scalar(
        conn,
        "SELECT count(*) FROM outbox WHERE fanned_out_at IS NULL "
        "AND (%s::timestamptz IS NULL OR occurred_at >= %s)",
        (since, since),
    )
    return int(pending) if pending is not None else 0
