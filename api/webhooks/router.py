# SPDX-License-Identifier: MIT
"""Routes of webhook subscriptions: subscribe, list, read, unsubscribe, the delivery log.

A fleet manager's subscriptions get their fleet's events, shop staff's their shop's orders;
an admin may subscribe to a given fleet or shop, or to everything.
"""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Request, Response

from api import access
from api.auth.principal import Principal
from api.deps import WEBHOOK_ROLES, ConnDep, SubscriptionIdDep, require_roles
from api.pagination import CursorQuery, LimitQuery, decode_cursor, next_cursor
from api.problems import ProblemError, forbidden, not_found, problem_response
from api.webhooks import subscriptions
from api.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Subscriber = Annotated[Principal, Depends(require_roles(*WEBHOOK_ROLES))]
NOT_FOUND = problem_response(403) | problem_response(404)


def _tenant(principal: Principal, body: SubscriptionIn) -> tuple[int | None, int | None]:
    """(fleet_id, shop_id) of a new subscription: the caller's own, or an admin's choice."""
    if principal.is_admin:
        return body.fleet_id, body.shop_id
    if body.fleet_id is not None or body.shop_id is not None:
        raise forbidden("Only admins choose the fleet or shop of a subscription.")
    if principal.role == "fleet_manager":
        return principal.fleet_id, None
    return None, principal.shop_id


@router.post(
    "",
    response_model=SubscriptionCreated,
    status_code=201,
    responses=problem_response(400) | problem_response(403) | problem_response(404),
)
def subscribe(
    body: SubscriptionIn, principal: Subscriber, conn: ConnDep, request: Request
) -> SubscriptionCreated:
    """Deliver events to ``url``, signed; the answer holds the signing secret, shown once.
    The URL must lead to the public internet (400 for loopback, private and other ranges)."""
    fleet_id, shop_id = _tenant(principal, body)
    try:
        created = subscriptions.create(
            conn,
            url=str(body.url),
            event_types=list(body.event_types),
            fleet_id=fleet_id,
            shop_id=shop_id,
            description=body.description,
            config=request.app.state.webhooks,
        )
    except subscriptions.InvalidSubscription as exc:
        raise ProblemError(400, "invalid-subscription", "Invalid subscription", str(exc)) from exc
    except psycopg.errors.ForeignKeyViolation as exc:  # an admin named a fleet or shop
        kind, object_id = ("fleet", fleet_id) if fleet_id is not None else ("shop", shop_id)
        raise not_found(kind, object_id) from exc
    return SubscriptionCreated(**created.subscription, secret=created.secret)


@router.get("", response_model=SubscriptionList, responses=problem_response(403))
def list_subscriptions(principal: Subscriber, conn: ConnDep) -> SubscriptionList:
    """The caller's subscriptions (their fleet's or shop's; an admin's: all)."""
    where, params = access.subscriptions(principal)
    rows = subscriptions.list_where(conn, where, params)
    return SubscriptionList(items=[SubscriptionOut(**r) for r in rows])


@router.get("/{subscription_id}", response_model=SubscriptionOut, responses=NOT_FOUND)
def get_subscription(subscription_id: SubscriptionIdDep, conn: ConnDep) -> SubscriptionOut:
    """One subscription."""
    found = subscriptions.get(conn, subscription_id)
    if found is None:  # deleted between the check and the read
        raise not_found("webhook", subscription_id)
    return SubscriptionOut(**found)


@router.delete("/{subscription_id}", status_code=204, responses=NOT_FOUND)
def unsubscribe(subscription_id: SubscriptionIdDep, conn: ConnDep) -> Response:
    """Stop deliveries and forget the subscription with its log."""
    subscriptions.delete(conn, subscription_id)
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryPage,
    responses=NOT_FOUND | problem_response(400),
)
def delivery_log(
    subscription_id: SubscriptionIdDep,
    conn: ConnDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> DeliveryPage:
    """Each event delivered (or being retried) to the subscription, with every attempt."""
    rows = subscriptions.deliveries(
        conn, subscription_id, before=decode_cursor(cursor), limit=limit + 1
    )
    return DeliveryPage(
        items=[DeliveryOut(**r) for r in rows[:limit]],
        next_cursor=next_cursor([r["delivery_id"] for r in rows], limit),
    )
