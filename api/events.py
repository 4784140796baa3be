# SPDX-License-Identifier: MIT
"""Live events for apps as server-sent events: alerts raised and service orders created or
changed, those the caller may see at the moment each is delivered.

The events are the outbox's (revision 0007), so each has a stable id: a client that
reconnects sends ``Last-Event-ID`` and gets what it missed (what it may still see). Ids are
drawn before their transactions commit, so an event may arrive after one with a higher id; the
hub waits for every such late commit (``api.streams``) and never sends an event twice on one
stream, but a client resuming from that late id gets the higher ones again. A stream holds no
database connection: the process's ``EventHub`` (``api.streams``) reads the outbox for all of
them on a connection of its own, checks each event against ``api.access.events`` for each
caller, and ends a stream when its key, token or user is revoked or disabled. A caller may
hold ``STREAMS_PER_CALLER`` streams at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, FastAPI, Header, Query, Request
from sse_starlette import EventSourceResponse

from api.deps import PrincipalDep
from api.problems import ProblemError, problem_response
from api.streams import EventHub, Subscriber, TooManyStreams
from api.webhooks.schemas import EventType

STREAMS_PER_CALLER = 4
PING_S = 15
WAIT_S = 1.0  # how often a quiet stream looks whether the hub ended it


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One hub per process, on the database of the app's pool (built by the app's lifespan)."""
    hub = EventHub(app.state.pool.conninfo, per_caller=STREAMS_PER_CALLER)
    hub.start()
    app.state.event_hub = hub
    try:
        yield
    finally:
        hub.stop()


router = APIRouter(tags=["events"], lifespan=lifespan)

STREAM: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": {}}}}


def _token_expiry(request: Request) -> float | None:
    """When the bearer token the stream was opened with expires (it was verified already)."""
    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else ""
    if not token or token.startswith("wl_"):
        return None
    claims = jwt.decode(token, options={"verify_signature": False})
    return float(claims["exp"])


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses=STREAM | problem_response(400) | problem_response(429),
)
async def events(
    request: Request,
    principal: PrincipalDep,
    vehicle_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Only this vehicle's")
    ] = None,
    types: Annotated[list[EventType] | None, Query(description="Only these kinds")] = None,
    last_event_id: Annotated[
        int | None,
        Header(
            ge=0,
            le=2**63 - 1,
            description="Resume after this event (what EventSource sends on reconnect)",
        ),
    ] = None,
    max_events: Annotated[
        int | None, Query(ge=1, le=10_000, description="End the stream after this many")
    ] = None,
) -> EventSourceResponse:
    """Server-sent events the caller may see: `alert.raised`, `order.created`,
    `order.status_changed`, `order.approval_decided` (a fleet's manager approved or rejected
    the order), and for shop staff `offer.made` (an order offered to their shop,
    with its `offer_id` and `expires_at`); each `data` is the event as webhooks deliver it. Without
    `Last-Event-ID` the stream starts with the next event. The stream ends when the caller's
    key or token is revoked or expires, or their account is disabled; at most
    `STREAMS_PER_CALLER` (4) streams per user at once (429 past it)."""
    hub: EventHub = request.app.state.event_hub
    sub = Subscriber(
        principal=principal,
        loop=asyncio.get_running_loop(),
        after=last_event_id,
        vehicle_id=vehicle_id,
        types=None if types is None else frozenset(types),
        expires_at=_token_expiry(request) if principal.key_id is None else None,
    )
    try:
        hub.subscribe(sub)
    except TooManyStreams:
        raise ProblemError(
            429,
            "too-many-streams",
            "Too many open event streams",
            f"You have {hub.per_caller} event streams open, the most one user may hold. Close "
            "one (one stream per app carries every event you may see) and retry.",
            headers={"Retry-After": "5"},
        ) from None

    async def stream() -> AsyncIterator[dict[str, str]]:
        sent = 0
        try:
            while sub.ended is None:
                try:
                    item = await asyncio.wait_for(sub.queue.get(), timeout=WAIT_S)
                except TimeoutError:
                    continue
                if item is None or sub.ended is not None:
                    return
                event_id, event_type, body = item
                yield {"id": str(event_id), "event": event_type, "data": json.dumps(body)}
                sent += 1
                if max_events is not None and sent >= max_events:
                    return
        finally:
            hub.unsubscribe(sub)

    return EventSourceResponse(stream(), ping=PING_S)
