# SPDX-License-Identifier: MIT
"""Problem details (RFC 9457) for the errors this API raises itself.

Validation errors (422) stay FastAPI's own, which clients and generated SDKs already know.

Exceptions::

    ProblemError    (``not_found``, ``unauthorized`` and ``forbidden`` build the common ones)
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

MEDIA_TYPE = "application/problem+json"
# Relative URIs: they identify the problem type and resolve against our documentation.
TYPE_BASE = "/problems/"


class Problem(BaseModel):
    """An RFC 9457 problem details body."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/vehicle-not-found",
                    "title": "Vehicle not found",
                    "status": 404,
                    "detail": "No vehicle with id 42.",
                }
            ]
        }
    )

    type: str
    title: str
    status: int
    detail: str | None = None


class ProblemError(Exception):
    """Raise to answer with a problem details body."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(type=TYPE_BASE + slug, title=title, status=status, detail=detail)
        self.headers = headers


def not_found(kind: str, object_id: object) -> ProblemError:
    """The one 404 of an object type: the same whether it is missing or not the caller's."""
    return ProblemError(
        404,
        f"{kind}-not-found",
        f"{kind.capitalize()} not found",
        f"No {kind} with id {object_id}.",
    )


def unauthorized(detail: str) -> ProblemError:
    """401: no credentials, or credentials that prove nothing."""
    return ProblemError(
        401, "unauthorized", "Authentication required", detail, {"WWW-Authenticate": "Bearer"}
    )


def forbidden(detail: str) -> ProblemError:
    """403: the caller's role may not do this, whatever the object."""
    return ProblemError(403, "forbidden", "Forbidden", detail)


def problem_response(status: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entry documenting a problem details answer."""
    return {status: {"model": Problem, "content": {MEDIA_TYPE: {}}}}


async def handle_problem(request: Request, exc: Exception) -> JSONResponse:
    """Exception handler turning ProblemError into its JSON body."""
    assert isinstance(exc, ProblemError)
    return JSONResponse(
        exc.problem.model_dump(),
        status_code=exc.problem.status,
        media_type=MEDIA_TYPE,
        headers=exc.headers,
    )


async def handle_data_error(request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot hold (an id past 2^63, a date past its range) is the
    caller's mistake: 400 problem details, never a 500."""
    problem = ProblemError(
        400, "invalid-value", "Invalid value", f"A value is out of range: {str(exc).strip()}"
    )
    return await handle_problem(request, problem)
