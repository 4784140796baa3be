# SPDX-License-Identifier: MIT
"""Problem details in the OpenAPI document: every error an operation can answer is declared
as ``application/problem+json`` with its schema.

FastAPI documents its own 422 body (``HTTPValidationError``) under ``application/json``;
our handlers answer ``ValidationProblem`` instead, so the document says so. Every operation
also gets a ``default`` problem response: any status it does not list (404 of an unknown id,
405, 500) is a ``Problem``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from api.problems import MEDIA_TYPE, Problem, ValidationProblem

REF = "#/components/schemas/{model}"


def _schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(Problem, "serialization"), (ValidationProblem, "serialization")], ref_template=REF
    )
    return dict(top["$defs"])


def _response(model: str, description: str) -> dict[str, Any]:
    schema = {"$ref": REF.format(model=model)}
    return {"description": description, "content": {MEDIA_TYPE: {"schema": schema}}}


def _rewrite(document: dict[str, Any]) -> None:
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            declared = responses.get("422", {}).get("content", {})
            if "application/json" in declared:  # FastAPI's HTTPValidationError
                responses["422"] = _response("ValidationProblem", "Invalid request")
            elif MEDIA_TYPE in declared:  # one of ours, and request validation's too
                declared[MEDIA_TYPE]["schema"] = {
                    "anyOf": [
                        {"$ref": REF.format(model=m)} for m in ("ValidationProblem", "Problem")
                    ]
                }
            responses.setdefault("default", _response("Problem", "Problem details"))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for fastapi_own in ("HTTPValidationError", "ValidationError"):
        schemas.pop(fastapi_own, None)
    schemas.update(_schemas())


def declare_problems(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document declare its problem-details responses."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()  # FastAPI's own, cached on the app; rewritten once here
            _rewrite(document)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
