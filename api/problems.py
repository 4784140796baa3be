# SPDX-License-Identifier: MIT
"""Problem details (RFC 9457) for every error the API answers.

Our own errors raise ``ProblemError``; ``install`` also turns what FastAPI and Starlette raise
into problem details: request validation (422, with each invalid field), bodies that are not
UTF-8 JSON (400), unknown routes (404), wrong methods (405) and any other HTTP error, and an
unexpected exception (500, without its internals). ``instance`` is the request's path.

Exceptions::

    ProblemError    (``not_found``, ``unauthorized`` and ``forbidden`` build the common ones)
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    instance: str | None = Field(None, description="The request's path")


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


def problem_response(status: int | str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entry documenting a problem details answer (``api.docs.openapi``
    adds the schema it refers to)."""
    ref = {"$ref": "#/components/schemas/Problem"}
    return {status: {"description": "Problem details", "content": {MEDIA_TYPE: {"schema": ref}}}}


def respond(
    request: Request, problem: Problem, headers: Mapping[str, str] | None = None
) -> Response:
    """The problem details response to ``request``."""
    body = problem.model_copy(update={"instance": request.url.path})
    return JSONResponse(
        # Members without a value are left out (RFC 9457 makes them optional); nested ones stay.
        {k: v for k, v in body.model_dump(mode="json").items() if v is not None},
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


async def handle_problem(request: Request, exc: Exception) -> Response:
    """Exception handler turning ProblemError into its JSON body."""
    assert isinstance(exc, ProblemError)
    return respond(request, exc.problem, exc.headers)


async def handle_data_error(request: Request, exc: Exception) -> Response:
    """A value the database cannot hold (an id past 2^63, a date past its range) is the
    caller's mistake: 400 problem details, never a 500."""
    problem = ProblemError(
        400, "invalid-value", "Invalid value", f"A value is out of range: {str(exc).strip()}"
    )
    return await handle_problem(request, problem)


class InvalidField(BaseModel):
    """One invalid part of a request, and what is wrong with it."""

    location: str = Field(description="body, query, path, header or cookie")
    field: str | None = Field(description="The field, as `parts[0].code`; null for the whole")
    message: str = Field(description="What is wrong, in words")
    type: str = Field(description="The kind of error, for programs (pydantic's error type)")


class ValidationProblem(Problem):
    """Problem details of a request that failed validation: every invalid field."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/invalid-request",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "Correct these fields and send the request again: limit (query): "
                    "Input should be less than or equal to 200.",
                    "instance": "/service-orders",
                    "errors": [
                        {
                            "location": "query",
                            "field": "limit",
                            "message": "Input should be less than or equal to 200",
                            "type": "less_than_equal",
                        }
                    ],
                }
            ]
        }
    )

    errors: list[InvalidField]


def _invalid_field(error: dict[str, Any]) -> InvalidField:
    location, *path = [str(p) for p in error.get("loc", ())] or ["body"]
    field = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path).lstrip(".")
    message = error.get("msg", "Invalid value")
    if error.get("type") == "extra_forbidden":
        message = "Not a field of this request: remove it"
    return InvalidField(
        location=location, field=field or None, message=message, type=error.get("type", "")
    )


def _malformed_body(why: str) -> Problem:
    return Problem(
        type=TYPE_BASE + "malformed-body",
        title="Malformed request body",
        status=400,
        detail=f"{why} Send a JSON document encoded in UTF-8, with Content-Type: application/json.",
    )


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    """422 problem details listing each invalid field; 400 for a body that is not JSON."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    for error in errors:
        if error.get("type") == "json_invalid":
            at = error.get("loc", ("body", "?"))[-1]
            why = error.get("ctx", {}).get("error", "not JSON")
            return respond(request, _malformed_body(f"The body is not valid JSON: {why} at {at}."))
    fields = [_invalid_field(e) for e in errors]
    listed = "; ".join(
        f"{f.field or 'the ' + f.location} ({f.location}): {f.message}" for f in fields[:10]
    )
    problem = ValidationProblem(
        type=TYPE_BASE + "invalid-request",
        title="Invalid request",
        status=422,
        detail=f"Correct these fields and send the request again: {listed}.",
        errors=fields,
    )
    return respond(request, problem)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's and FastAPI's HTTP errors (unknown route, wrong method, unreadable body...)."""
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, UnicodeDecodeError):
        return respond(request, _malformed_body("The body is not valid UTF-8."))
    status = exc.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status outside the standard's list
        phrase = "Error"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    if status == 404:
        detail = f"Nothing is at {request.url.path}: the routes are listed at /docs."
    elif status == 405:
        allowed = (exc.headers or {}).get("allow") or (exc.headers or {}).get("Allow") or "none"
        detail = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}."
    elif status == 400 and exc.__cause__ is not None and detail:
        return respond(request, _malformed_body(f"{detail}."), exc.headers)
    slug = phrase.lower().replace(" ", "-").replace("'", "")
    return respond(
        request,
        Problem(type=TYPE_BASE + slug, title=phrase, status=status, detail=detail),
        exc.headers,
    )


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """500 problem details that show nothing of the failure; the server logs it."""
    problem = Problem(
        type=TYPE_BASE + "internal-error",
        title="Internal server error",
        status=500,
        detail="The server failed to answer this request and has logged why. Try again "
        "later; if it goes on, report it with the time of the request.",
    )
    return respond(request, problem)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with problem details."""
    app.add_exception_handler(ProblemError, handle_problem)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected)
