# SPDX-License-Identifier: MIT
"""Every error is RFC 9457 problem details: validation (422, each invalid field), bodies that
are not UTF-8 JSON, unknown routes, wrong methods, unexpected failures; and the OpenAPI
document declares them so."""

from __future__ import annotations

import factories
import pytest
from api_helpers import AUTH
from fastapi.testclient import TestClient

from api import create_app

MEMBERS = {"type", "title", "status", "detail", "instance"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= MEMBERS and body["status"] == status, body
    assert body["instance"] == response.request.url.path
    return body


def test_invalid_query_lists_each_field_and_what_is_wrong(admin_client):
    body = _problem(admin_client.get("/service-orders", params={"limit": 999}), 422)
    assert body["type"] == "/problems/invalid-request"
    assert body["errors"] == [
        {
            "location": "query",
            "field": "limit",
            "message": "Input should be less than or equal to 200",
            "type": "less_than_equal",
        }
    ]
    assert "limit (query): Input should be less than or equal to 200" in body["detail"]


@pytest.fixture
def vehicle_id(conn) -> int:
    return factories.vehicle(conn, vin="WLPRBLEM000000001").vehicle_id


def test_invalid_body_fields_are_named_with_their_path(admin_client, vehicle_id):
    body = _problem(
        admin_client.post(
            f"/vehicles/{vehicle_id}/oil-analyses",
            json={"life_left_pct": 120, "viscosity": 11.2},
        ),
        422,
    )
    by_field = {e["field"]: e for e in body["errors"]}
    assert by_field["life_left_pct"]["location"] == "body"
    assert "100" in by_field["life_left_pct"]["message"]
    assert by_field["viscosity"]["message"] == "Not a field of this request: remove it"
    assert by_field["sampled_at"]["message"] == "Field required"


def test_a_malformed_path_parameter_is_a_422_problem(admin_client):
    body = _problem(admin_client.get("/vehicles/abc/health"), 422)
    assert [(e["location"], e["field"]) for e in body["errors"]] == [("path", "vehicle_id")]


def test_an_error_about_the_whole_body_names_no_field_but_keeps_the_member(admin_client):
    body = _problem(admin_client.post("/auth/keys", json=[1, 2]), 422)
    assert [(e["location"], e["field"]) for e in body["errors"]] == [("body", None)]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"life_left_pct": 4', "not valid JSON"),
        (b"\x80\x81 not utf-8", "not valid UTF-8"),
        (b'{"life_left_pct": "\xe9"}', "not valid UTF-8"),
    ],
)
def test_a_body_that_is_not_utf8_json_is_a_400_problem(admin_client, vehicle_id, content, why):
    response = admin_client.post(
        f"/vehicles/{vehicle_id}/oil-analyses",
        content=content,
        headers={"content-type": "application/json"},
    )
    body = _problem(response, 400)
    assert body["type"] == "/problems/malformed-body"
    assert why in body["detail"] and "Content-Type: application/json" in body["detail"]


def test_unknown_route_and_wrong_method(client):
    missing = _problem(client.get("/no/such/route"), 404)
    assert missing["type"] == "/problems/not-found" and "/docs" in missing["detail"]
    wrong = client.delete("/healthz")
    body = _problem(wrong, 405)
    assert wrong.headers["allow"] == "GET" and "allowed: GET" in body["detail"]


def test_an_unexpected_failure_is_a_500_problem_without_internals(db_url):
    app = create_app(db_url, auth=AUTH)

    def explode() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/explode")
    body = _problem(response, 500)
    assert "secret" not in response.text and body["type"] == "/problems/internal-error"


def test_our_own_problems_carry_their_instance(admin_client):
    body = _problem(admin_client.get("/vehicles/424242/health"), 404)
    assert body["type"] == "/problems/vehicle-not-found"


def test_openapi_declares_every_error_as_problem_details(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and {"Problem", "ValidationProblem"} <= set(schemas)
    checked = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "default" in responses, (method, path)
            for status, response in responses.items():
                if status == "default" or int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
                    checked += 1
            if "422" in responses:  # ours (a Problem) or a validation error's
                schema = responses["422"]["content"]["application/problem+json"]["schema"]
                assert {"$ref": "#/components/schemas/ValidationProblem"} in (
                    schema,
                    *schema.get("anyOf", []),
                )
    assert checked > 100
