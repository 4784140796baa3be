# SPDX-License-Identifier: MIT
"""Input hygiene for every route: non-finite numbers and out-of-range ids and dates are the
caller's mistake (422 problem details), never a 500 or a stored ``Infinity``.

One app-wide dependency (``checked_inputs``), so a route added later is covered without
remembering anything, and the request models keep their own configuration:

- JSON bodies: Python's JSON parser accepts ``NaN``, ``Infinity`` and ``-Infinity`` and turns
  ``1e999`` into infinity; pydantic then lets them into float fields, and a 422 quoting one
  cannot even be rendered (JSON has no such numbers). Each JSON body is parsed once more here
  and refused if it holds a non-finite number anywhere.
- Query and path parameters, as each route declares them: integers must fit PostgreSQL's
  bigint (ids are bigint), floats must be finite, dates and times must lie between
  ``EARLIEST`` and ``LATEST`` (the routes add and subtract days; year 1 or 9999 overflowed).
"""

from __future__ import annotations

import json
import math
import types
import typing
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
# Far outside any vehicle's life, and far inside what datetime arithmetic survives.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

_DATETIME = TypeAdapter(datetime)
_DATE = TypeAdapter(date)
# Kept on each route object: routes are built once per app and live as long as it does.
_CACHE = "_wrenchlight_bounded_parameters"


def _error(loc: tuple[str | int, ...], kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": message, "input": None}


def non_finite_path(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where in a parsed JSON document a non-finite number sits, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = non_finite_path(item, (*path, key))
        if found is not None:
            return found
    return None


def _kind(annotation: Any) -> type | None:
    """int, float, datetime or date if the parameter is one of those (or a list or an
    optional of one), else None."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) in (
        typing.Union,
        list,
    ):
        kinds = {_kind(arg) for arg in typing.get_args(annotation)} - {None}
        return kinds.pop() if len(kinds) == 1 else None
    if annotation is bool:  # a bool is an int to Python, not to a query string
        return None
    for kind in (datetime, date, float, int):
        if isinstance(annotation, type) and issubclass(annotation, kind):
            return kind
    return None


def _parameters(route: Any) -> list[tuple[str, str, type]]:
    """(location, name, kind) of the route's bounded query and path parameters."""
    found: list[tuple[str, str, type]] | None = getattr(route, _CACHE, None)
    if found is None:
        found = []
        pending = [route.dependant] if hasattr(route, "dependant") else []
        while pending:
            dependant = pending.pop()
            pending.extend(dependant.dependencies)
            for location, params in (
                ("query", dependant.query_params),
                ("path", dependant.path_params),
            ):
                for param in params:
                    kind = _kind(param.field_info.annotation)
                    if kind is not None:
                        found.append((location, param.alias, kind))
        setattr(route, _CACHE, found)
    return found


def _out_of_range(kind: type, raw: str) -> str | None:
    """What is wrong with a raw parameter of ``kind``; None if fine or not even parseable
    (the route's own validation says that)."""
    try:
        if kind is int:
            if not BIGINT_MIN <= int(raw) <= BIGINT_MAX:
                return f"Input should be between {BIGINT_MIN} and {BIGINT_MAX}"
        elif kind is float:
            if not math.isfinite(float(raw)):
                return "Input should be a finite number"
        elif kind is datetime:
            at = _DATETIME.validate_python(raw)
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            if not EARLIEST <= at < LATEST:
                return (
                    f"Input should be a time from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d}"
                )
        elif kind is date:
            day = _DATE.validate_python(raw)
            if not EARLIEST.date() <= day < LATEST.date():
                return (
                    f"Input should be a date from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d}"
                )
    except (ValueError, ValidationError, OverflowError):
        return None
    return None


async def checked_inputs(request: Request) -> None:
    """Refuse non-finite numbers in a JSON body and out-of-range query and path parameters
    with 422 problem details (the app's handler of RequestValidationError renders them)."""
    errors: list[dict[str, Any]] = []
    route = request.scope.get("route")
    for location, name, kind in _parameters(route) if route is not None else ():
        source = request.query_params.getlist(name) if location == "query" else []
        if location == "path" and name in request.path_params:
            source = [str(request.path_params[name])]
        for raw in source:
            message = _out_of_range(kind, raw)
            if message:
                errors.append(_error((location, name), "out_of_range", message))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()
        try:
            document = json.loads(body) if body else None
        except (ValueError, RecursionError):
            document = None  # not JSON: the route's own parsing answers that
        where = non_finite_path(document)
        if where is not None:
            errors.append(
                _error(
                    ("body", *where),
                    "finite_number",
                    "Input should be a finite number (NaN and Infinity are not numbers JSON "
                    "allows)",
                )
            )
    if errors:
        raise RequestValidationError(errors)
