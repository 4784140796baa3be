# SPDX-License-Identifier: MIT
"""Property-based tests of every operation in the OpenAPI document (schemathesis): with an
admin's valid credentials, generated requests, valid and invalid, never get a server error or
a response that breaks the documented schema, status codes or content types (so every error
is the documented problem details, 422s included).

The operations are driven one by one through their Hypothesis strategies rather than with
schemathesis's pytest plugin, whose lazy-fixture loader does not run on pytest 9.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from api_helpers import AUTH, make_caller
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from api import create_app
from api.ratelimit import RateLimits

# Examples per operation and mode: the default run's share, and `make soak`'s fuller search.
EXAMPLES = 15
SOAK_EXAMPLES = 40
# Invalid requests too: their answers (422, 400, 404) must match the documented problems.
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# Checks of taste rather than of correctness, left out: an opaque cursor that is a valid
# string but not one of ours is refused with 400 by design (positive_data_acceptance).
OPINIONS = [checks.positive_data_acceptance]
# A stream of server-sent events has no end to validate (tests/api/test_webhooks.py reads
# finite ones).
STREAMS = {"GET /events"}


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "examples",
    [
        pytest.param(EXAMPLES, id="quick"),
        pytest.param(SOAK_EXAMPLES, id="soak", marks=pytest.mark.soak),
    ],
)
def test_no_server_errors_and_responses_match_the_schema(db_url, conn, examples):
    headers = make_caller(conn, "admin").headers
    # Limits the generated load cannot reach: the limiter still counts every request.
    app = create_app(db_url, auth=AUTH, rate_limits=RateLimits(per_caller="1000000/minute"))
    failures: dict[str, str] = {}
    operations = 0
    with TestClient(app):  # the lifespan: the connection pool exists while the checks run
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result, mode in itertools.product(schema.get_all_operations(), MODES):
            operation = result.ok()
            operations += mode is GenerationMode.POSITIVE
            if operation.label in STREAMS:
                continue

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case):
                case.call_and_validate(headers=headers, excluded_checks=OPINIONS)

            label = f"{operation.label} ({mode.value})"
            try:
                check()
            except Unsatisfiable:
                # An operation without parameters or body has no invalid request to make.
                if mode is not GenerationMode.NEGATIVE:
                    failures[label] = "Unsatisfiable"
            except (Exception, BaseExceptionGroup) as exc:  # report every operation's failures
                failures[label] = f"{type(exc).__name__}: {exc}"[:2000]
    assert operations >= 30, "the OpenAPI document lost its operations"
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
