# SPDX-License-Identifier: MIT
"""The OpenAPI document: every request and response body a route declares comes with an
example, and every example is a valid instance of its model (so the docs never show a body
the API would refuse or never send)."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api import create_app
from api.auth.router import public_router as auth_public_router
from api.main import AUTHENTICATED


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models in a route's response model or body annotation (``list[X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


@pytest.fixture(scope="module")
def models() -> dict[str, type[BaseModel]]:
    app = create_app("postgresql://unused@localhost/unused")
    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    routes += [r for router in (*AUTHENTICATED, auth_public_router) for r in router.routes]
    found: dict[str, type[BaseModel]] = {}
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        annotations = [route.response_model]
        if route.body_field is not None and "form" not in str(route.body_field.field_info):
            annotations.append(route.body_field.field_info.annotation)
        for model in (m for a in annotations for m in _models(a)):
            if not model.__name__.startswith("Body_"):  # FastAPI's own OAuth2 form model
                found[model.__name__] = model
    return found


def _examples(model: type[BaseModel]) -> list[Any]:
    extra = model.model_config.get("json_schema_extra")
    return list(extra.get("examples", [])) if isinstance(extra, dict) else []


def test_every_body_has_an_example(models):
    assert len(models) > 25
    assert sorted(name for name, model in models.items() if not _examples(model)) == []


def test_every_example_is_a_valid_instance_of_its_model(models):
    checked = 0
    for model in models.values():
        for example in _examples(model):
            model.model_validate(example)
            checked += 1
    assert checked >= len(models)
