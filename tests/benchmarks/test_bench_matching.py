# SPDX-License-Identifier: MIT
"""`wrenchlight bench matching` on a small directory: every figure present and consistent.

The timings are not asserted (a shared machine makes timed tests noise); BENCHMARKS.md has
the figures of the full run.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wrenchlight.cli import build_app

app = build_app()


@pytest.mark.timeout(120)
def test_bench_matching_reports_ours_beside_the_full_scans(database_url, monkeypatch, tmp_path):
    # The bench only takes the server from the URL: it creates and drops a database of its own.
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    args = ["bench", "matching", "--shops", "1500", "--queries", "100", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    f = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"p50_ms", "p99_ms", "naive_p99_ms"} <= set(f)
    assert f["shops"] == 1500 and f["ours"]["n"] == 100 and f["naive"]["n"] == 20
    assert 0 < f["p50_ms"] <= f["p99_ms"] and f["naive_p99_ms"] > 0
    assert f["p99_ms"] == f["ours"]["p99_ms"] and f["mean_candidates"] > 0
    assert f["naive_over_ours_p99"] == round(f["naive_p99_ms"] / f["p99_ms"], 1)
