# SPDX-License-Identifier: MIT
"""Input hygiene (issue 15, the low findings): non-finite numbers in any JSON body, ids past
bigint and absurd dates in any query or path parameter are 422 problem details, never a 500
or a stored ``Infinity``; every route of the OpenAPI document is tried."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import factories
import pytest
from api_helpers import make_caller

BIG = str(2**63)
BODY_METHODS = ("post", "put", "patch")


def _routes(client, methods):
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in methods:
                yield path, method, operation


def _fill(path: str, value: str = "1", only: str | None = None) -> str:
    """The path with each {param} replaced (``only`` by ``value``, the others by 1)."""
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        name = out[start + 1 : end]
        out = out[:start] + (value if only in (None, name) else "1") + out[end + 1 :]
    return out


def _assert_refused(response, location: str, field: str, kind: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert any(
        e["location"] == location and e["field"] == field and e["type"] == kind for e in errors
    ), errors


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_every_json_body_refuses_non_finite_numbers(admin_client, literal):
    tried = 0
    for path, method, operation in _routes(admin_client, BODY_METHODS):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        body = f'{{"value": {literal}, "nested": [1, {{"deep": {literal}}}]}}'
        response = admin_client.request(
            method.upper(),
            _fill(path),
            content=body,
            headers={"content-type": "application/json"},
        )
        _assert_refused(response, "body", "value", "finite_number")
        tried += 1
    assert tried >= 10  # the document lists the API's bodies


def test_an_infinite_odometer_is_refused_and_not_stored(client, conn):
    owner = make_caller(conn, "owner")
    vehicle = factories.vehicle(
        conn, vin="WLXNF000000000001", owner_user_id=owner.user_id
    ).vehicle_id
    sample = {
        "sampled_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "drained": False,
        "life_left_pct": 50.0,
        "odometer_km": float("inf"),
    }
    path = f"/vehicles/{vehicle}/oil-analyses"
    headers = owner.headers | {"content-type": "application/json"}
    response = client.post(path, content=json.dumps(sample), headers=headers)
    _assert_refused(response, "body", "odometer_km", "finite_number")
    assert client.get(path, headers=owner.headers).json()["items"] == []
    sample["odometer_km"] = 48213.4  # the same sample, finite, is stored
    assert client.post(path, json=sample, headers=owner.headers).status_code == 201


def test_every_integer_parameter_is_bounded_to_bigint(admin_client):
    tried = 0
    for path, method, operation in _routes(admin_client, ("get", "post", "put", "patch", "delete")):
        for param in operation.get("parameters", []):
            schema = param.get("schema", {})
            types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
            if "integer" not in types or param["in"] not in ("path", "query"):
                continue
            if param["in"] == "path":
                url, params = _fill(path, BIG, only=param["name"]), {}
            else:
                url, params = _fill(path), {param["name"]: BIG}
            response = admin_client.request(method.upper(), url, params=params)
            _assert_refused(response, param["in"], param["name"], "out_of_range")
            tried += 1
    assert tried >= 20


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"])
def test_every_time_parameter_is_bounded(admin_client, when):
    tried = 0
    for path, _method, operation in _routes(admin_client, ("get",)):
        for param in operation.get("parameters", []):
            schema = param.get("schema", {})
            formats = {schema.get("format")} | {s.get("format") for s in schema.get("anyOf", [])}
            if "date-time" not in formats:
                continue
            response = admin_client.get(_fill(path), params={param["name"]: when})
            _assert_refused(response, param["in"], param["name"], "out_of_range")
            tried += 1
    assert tried >= 2


def test_the_reported_dates_and_stream_id_are_4xx(client, conn, admin):
    vehicle = factories.vehicle(conn, vin="WLDATE00000000001").vehicle_id
    shop = factories.shop(conn, name="s", lat=52.5, lon=13.4).shop_id
    telemetry = client.get(
        f"/vehicles/{vehicle}/telemetry",
        params={"signal": "coolant_temp_c", "end": "0001-01-01T00:00:00Z"},
        headers=admin.headers,
    )
    _assert_refused(telemetry, "query", "end", "out_of_range")
    slots = client.get(
        f"/shops/{shop}/slots", params={"start": "9999-12-31T00:00:00Z"}, headers=admin.headers
    )
    _assert_refused(slots, "query", "start", "out_of_range")
    stream = client.get("/events", params={"vehicle_id": BIG}, headers=admin.headers)
    _assert_refused(stream, "query", "vehicle_id", "out_of_range")
    # Sane values still work.
    assert client.get(f"/shops/{shop}/slots", headers=admin.headers).status_code == 200
