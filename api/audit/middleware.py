# SPDX-License-Identifier: MIT
"""The audit log: who (user, API key), what (method, route, object, status) and when, for
every write the API is asked to do — refused ones included, since a run of 403s and 404s is
what an attacker probing ids leaves behind.

A middleware writes the row after the response, from its own pooled connection, so a failed
request leaves its trace even though its transaction rolled back. The price: a process that dies
between answering and writing loses that one row.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from api.audit.log import DETAIL_MAX, Note
from api.auth.principal import Principal

log = logging.getLogger(__name__)

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Not audited: logging in writes nothing, and its failures are the password's business.
UNAUDITED = frozenset({"/auth/token"})


def _object(path_params: dict[str, Any]) -> tuple[str | None, str | None]:
    for name, value in path_params.items():
        if name.endswith("_id"):
            return name.removesuffix("_id"), str(value)
    return None, None


def _write(request: Request, status: int) -> None:
    principal: Principal | None = getattr(request.state, "principal", None)
    route = request.scope.get("route")
    object_type, object_id = _object(request.path_params)
    # A page mounted in the API (the web app) names what it did: its own path parameters are
    # not this application's to read.
    note: Note | None = getattr(request.state, "audit", None)
    if note is not None:
        object_type, object_id = note.object_type, note.object_id
    with request.app.state.pool.connection() as conn:
        conn.execute(
            "INSERT INTO audit_log (user_id, key_id, method, route, path, status, object_type, "
            "object_id, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                principal.user_id if principal else None,
                principal.key_id if principal else None,
                request.method,
                getattr(route, "path", request.url.path),
                request.url.path,
                status,
                object_type,
                object_id,
                note.detail[:DETAIL_MAX] if note else None,
            ),
        )


async def audit_writes(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Middleware: answer the request, then record it if it was a write."""
    response = await call_next(request)
    if request.method in WRITES and request.url.path not in UNAUDITED:
        try:
            await run_in_threadpool(_write, request, response.status_code)
        except Exception:
            # The write itself succeeded or failed on its own; a lost audit row is logged loudly
            # rather than turned into an error for a client whose request is already answered.
            log.exception("audit row lost for %s %s", request.method, request.url.path)
    return response
