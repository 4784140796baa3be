# SPDX-License-Identifier: MIT
"""`wrenchlight bench api` on a small fleet: the data it generates, and every figure of every
endpoint at each client count, served by several API worker processes.

The timings are not asserted (a shared machine makes timed tests noise); BENCHMARKS.md has
the figures of the full run.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wrenchlight.cli import build_app

app = build_app()


@pytest.mark.child_clock
@pytest.mark.timeout(180)
def test_bench_api_measures_each_endpoint_at_each_client_count(database_url, monkeypatch):
    # The bench only takes the server from the URL: it creates and drops a database of its own.
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", database_url)
    args = ["bench", "api", "--vehicles", "40", "--fleet-size", "20", "--days", "2"]
    args += ["--drive-minutes", "30", "--seconds", "0.5", "--clients", "1", "--clients", "3"]
    args += ["--api-workers", "2", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    data = report["data"]
    assert (data["vehicles"], data["fleets"]) == (40, 2)
    assert data["predictions"] == 40 * 2 * 2  # a prediction per model per day
    assert data["readings_1m"] == 40 * 2 * 30  # one 30-minute drive a day
    assert set(report["endpoints"]) == {"vehicle_health", "telemetry_day", "fleet_table"}
    for by_clients in report["endpoints"].values():
        assert set(by_clients) == {"1", "3"}
        for figures in by_clients.values():
            assert figures["requests"] > 0 and figures["requests_per_s"] > 0
            assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert set(report["targets_met"]) == {"health_p99_ms_1_client", "fleet_p99_ms_1_client"}
