# SPDX-License-Identifier: MIT
"""`wrenchlight bench web` on a small fleet: every owner and fleet page is measured beside the
JSON call underneath and a static file of its size, and every page it names answers 200 (a
page that moved would otherwise be timed as a fast error).

The timings are not asserted (a shared machine makes timed tests noise); BENCHMARKS.md has
the figures of the full run.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from benchmarks.web import FLEET_PAGES
from wrenchlight.cli import build_app

app = build_app()


@pytest.mark.child_clock
@pytest.mark.timeout(300)
def test_bench_web_measures_every_page(database_url, monkeypatch):
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", database_url)
    args = ["bench", "web", "--vehicles", "40", "--days", "2", "--cars", "2", "--seconds", "0.5"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    pages = report["pages"]
    assert set(FLEET_PAGES) <= set(pages)
    assert {"my_cars", "car", "orders", "settings"} <= set(pages)
    for name, figures in pages.items():
        assert figures["first_load"]["parts"][figures["path"]] > 0, name
        for competitor in ("ours", "api_underneath", "static_same_size"):
            measured = figures[competitor]
            assert measured["requests"] > 0, (name, competitor)
            assert 0 < measured["p50_ms"] <= measured["p99_ms"] <= measured["max_ms"]
    assert set(report["targets_met"]) == {"p99_ms", "first_load_kb", "fleet_p99_ms"}
