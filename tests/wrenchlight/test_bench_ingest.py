# SPDX-License-Identifier: MIT
"""`wrenchlight bench ingest` and `bench layout` on a tiny fleet: every figure present and sane.

The figures themselves are not asserted (timed tests on a shared machine are noise); that is
what BENCHMARKS.md and the benchmark commands are for.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

import wrenchlight.bench  # noqa: F401  (registers ``bench``)
from wrenchlight.cli import app

# Five cars: one of each driver profile, two of which drive every day, weekends included.
TINY = ["--vehicles", "5", "--days", "1"]


def _run(args: list[str], database_url: str, mqtt_url: str, monkeypatch, tmp_path) -> Any:
    # The bench only takes the server from the URL: it creates and drops a database of its own.
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", database_url)
    monkeypatch.setenv("WRENCHLIGHT_MQTT_URL", mqtt_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(120)
def test_bench_ingest_reports_every_competitor(database_url, mqtt_url, monkeypatch, tmp_path):
    f = _run(
        ["bench", "ingest", "--json", *TINY, "--seconds", "1", "--workers", "1"],
        database_url,
        mqtt_url,
        monkeypatch,
        tmp_path,
    )
    for key in (
        "naive_samples_per_s",
        "ours_samples_per_s",
        "limit_samples_per_s",
        "p99_commit_latency_s",
        "worker_rss_mb",
    ):
        assert isinstance(f[key], int | float) and f[key] > 0, key
    # The ratios are rounded (to 0.1 and 0.001).
    assert f["ours_over_naive"] == pytest.approx(
        f["ours_samples_per_s"] / f["naive_samples_per_s"], abs=0.051
    )
    assert f["ours_over_limit"] == pytest.approx(
        f["ours_samples_per_s"] / f["limit_samples_per_s"], abs=0.00051
    )
    # Ours and the limit wrote every sample of the workload; the naive way a prefix of it.
    ours = f["ours"]["1"]
    assert ours["samples"] == ours["stored_samples"] == f["limit"]["samples"] == f["samples"]
    assert 0 < f["naive"]["samples"] <= f["samples"]
    assert ours["dead_letters"] == 0
    lat = f["latency"]["latency_s"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["max"] < 60
    assert 20 < f["worker_rss_mb"] < 2000
    assert set(f["targets_met"]) == {
        "ours_over_naive",
        "ours_over_limit",
        "p99_commit_latency_s",
        "worker_rss_mb",
    }


@pytest.mark.timeout(120)
def test_bench_layout_measures_both_layouts_on_the_same_samples(
    database_url, mqtt_url, monkeypatch, tmp_path
):
    f = _run(
        ["bench", "layout", "--json", *TINY, "--repeats", "2"],
        database_url,
        mqtt_url,
        monkeypatch,
        tmp_path,
    )
    assert f["samples"] > 0
    # Multi-rate sampling: a timestamp carries some of the signals, not all.
    assert f["wide_rows"] < f["samples"] and 0 < f["wide_null_fraction"] < 1
    for layout in ("layout_narrow", "layout_wide", "layout_wide_real"):
        figures = f[layout]
        assert figures["copy_samples_per_s"] > 0
        assert figures["bytes_per_sample"] > 0
        assert set(figures["queries_ms"]) == set(f["queries"])
        assert all(q["median"] > 0 for q in figures["queries_ms"].values())
    assert f["layout_narrow"]["rows"] == f["samples"]
    assert f["results_match"] is True
