# SPDX-License-Identifier: MIT
"""Live events for owner apps as server-sent events: alerts raised and service orders created
or changed, for the vehicles the caller may see.

The events are the outbox's (revision 0007), so each has a stable id: a client that
reconnects sends ``Last-Event-ID`` and gets what it missed, in order, and nothing twice. A
stream holds no database connection: every ``POLL_S`` it borrows one from the pool for one
indexed query, so a thousand idle apps cost a thousand sockets, not a thousand backends.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse

from api import access
from api.auth.principal import Principal
from api.deps import PrincipalDep
from api.problems import problem_response
from api.webhooks.schemas import EventType

router = APIRouter(tags=["events"])

STREAM: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": {}}}}
POLL_S = 1.0
PING_S = 15
BATCH = 100
_SELECT = (
    "SELECT o.event_id, o.event_type, o.occurred_at, o.payload FROM outbox o "
    "JOIN vehicles v ON v.vehicle_id = o.vehicle_id "
    "WHERE o.event_id > %(after)s AND {visible} "
    "AND (%(vehicle)s::bigint IS NULL OR o.vehicle_id = %(vehicle)s) "
    "AND (%(types)s::text[] IS NULL OR o.event_type = ANY(%(types)s)) "
    "ORDER BY o.event_id LIMIT %(limit)s"
)


def _fetch(request: Request, principal: Principal, params: dict[str, Any]) -> list[Any]:
    where, visible = access.vehicles(principal, "v")
    with request.app.state.pool.connection() as conn:
        return conn.execute(
            _SELECT.format(visible=where), {**params, **visible, "limit": BATCH}
        ).fetchall()


def _latest(request: Request) -> int:
    with request.app.state.pool.connection() as conn:
        row = conn.execute("SELECT COALESCE(max(event_id), 0) FROM outbox").fetchone()
    return int(row[0]) if row else 0


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses=STREAM | problem_response(400),
)
async def events(
    request: Request,
    principal: PrincipalDep,
    vehicle_id: Annotated[int | None, Query(ge=1, description="Only this vehicle's")] = None,
    types: Annotated[list[EventType] | None, Query(description="Only these kinds")] = None,
    last_event_id: Annotated[
        int | None,
        Header(ge=0, description="Resume after this event (what EventSource sends on reconnect)"),
    ] = None,
    max_events: Annotated[
        int | None, Query(ge=1, le=10_000, description="End the stream after this many")
    ] = None,
) -> EventSourceResponse:
    """Server-sent events of the caller's vehicles: `alert.raised`, `order.created`,
    `order.status_changed`; each `data` is the event as webhooks deliver it. Without
    `Last-Event-ID` the stream starts with the next event."""
    after = (
        last_event_id
        if last_event_id is not None
        else await anyio.to_thread.run_sync(_latest, request)
    )

    async def stream() -> AsyncIterator[dict[str, str]]:
        nonlocal after
        sent = 0
        while not await request.is_disconnected():
            params = {"after": after, "vehicle": vehicle_id, "types": types}
            rows = await anyio.to_thread.run_sync(_fetch, request, principal, params)
            for event_id, event_type, occurred_at, payload in rows:
                after = event_id
                body = {"type": event_type, "timestamp": occurred_at.isoformat(), "data": payload}
                yield {"id": str(event_id), "event": event_type, "data": json.dumps(body)}
                sent += 1
                if max_events is not None and sent >= max_events:
                    return
            if len(rows) < BATCH:
                await anyio.sleep(POLL_S)

    return EventSourceResponse(stream(), ping=PING_S)
