# SPDX-License-Identifier: MIT
"""A limit on request bodies: larger ones get 413 problem details before the app reads them.

Written by hand as a few lines of ASGI: Starlette has no body limit of its own, and the API's
bodies are small JSON documents (a work report, a subscription), so a megabyte is generous.
A declared ``content-length`` over the limit is refused at once; a chunked body is counted as
it arrives and refused when it passes the limit.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1 << 20
# The job card's photo upload (web/routes/reports.py) takes a few photos of up to a few MB each;
# its route refuses each photo over the configured size with words next to the field, so its
# body may be larger than an API body, up to this much.
UPLOAD_BODY_BYTES = 100 << 20
LARGER_BODIES = ((re.compile(r"^/app/shop/jobs/[0-9]+/photos$"), UPLOAD_BODY_BYTES),)


class BodyTooLarge(BaseException):
    """The body passed the limit while it was being received. A BaseException, so that the
    framework's handlers of body-parsing errors (which answer 400) let it through to us."""


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "/problems/body-too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": f"Request bodies are limited to {limit} bytes.",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes with 413."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = dict(scope.get("headers", []))
        limit = self.limit
        for path, larger in LARGER_BODIES:
            if path.match(scope.get("path", "")):
                limit = max(limit, larger)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except (BodyTooLarge, BaseExceptionGroup) as exc:
            too_large = isinstance(exc, BodyTooLarge) or (
                isinstance(exc, BaseExceptionGroup) and exc.subgroup(BodyTooLarge) is not None
            )
            if not too_large:
                raise
            if not started:
                await _refuse(send, limit)


def add_body_limit(app: Any, limit: int = MAX_BODY_BYTES) -> None:
    """Install the limit as the outermost middleware of a Starlette/FastAPI app."""
    app.add_middleware(BodyLimit, limit=limit)
