# SPDX-License-Identifier: MIT
"""`wrenchlight bench predictive` on a small fleet: every figure present, consistent, and the
naive way's results equal to ours. The timings themselves are not asserted."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wrenchlight.cli import build_app

app = build_app()


@pytest.mark.timeout(120)
def test_bench_predictive_reports_every_competitor(database_url, monkeypatch, tmp_path):
    # The bench only takes the server from the URL: it creates and drops a database of its own.
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    args = ["bench", "predictive", "--vehicles", "300", "--naive-vehicles", "30", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    f = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("seconds", "vehicles_per_s", "naive_vehicles_per_s", "limit_seconds"):
        assert isinstance(f[key], int | float) and f[key] > 0, key
    assert f["vehicles"] == f["ours"]["vehicles"] == 300
    # Two minutes at the feed's sampling: a row per second; EVs write no oil prediction.
    assert f["rows"] == 300 * 120
    assert 285 <= f["ours"]["predictions"] <= 600
    assert f["naive"]["vehicles"] == 30 and f["naive"]["identical_to_ours"] is True
    # Extrapolated from the per-vehicle time (rounded to 0.1 s).
    expected = 300 * f["naive"]["seconds_per_vehicle"]
    assert f["naive_extrapolated_seconds"] == pytest.approx(expected, abs=0.06)
    # The limit read every row ours read: the new ones plus each car's held-back instant.
    assert f["limit"]["packed_columns"]["rows"] == f["rows"] + 300


@pytest.mark.timeout(120)
def test_several_evaluator_processes_share_the_pass(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    args = ["bench", "predictive", "--vehicles", "200", "--naive-vehicles", "20"]
    result = CliRunner().invoke(app, [*args, "--evaluators", "2", "--json"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    f = json.loads(result.stdout.strip().splitlines()[-1])
    # Every vehicle evaluated once between the two processes, with the same results the
    # naive way stores on its subset; both processes' CPU is counted.
    assert f["ours"]["evaluators"] == 2 and f["vehicles"] == f["ours"]["vehicles"] == 200
    assert 190 <= f["ours"]["predictions"] <= 400
    assert f["naive"]["identical_to_ours"] is True
    assert f["ours"]["python_cpu_s"] > 0 and f["ours"]["postgres_backend_cpu_s"] > 0
