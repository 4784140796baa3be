# SPDX-License-Identifier: MIT
"""`wrenchlight bench ingest` and `bench layout` on a tiny fleet: every figure present and sane.

The figures themselves are not asserted (timed tests on a shared machine are noise); that is
what BENCHMARKS.md and the benchmark commands are for.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from rich.console import Console
from typer.testing import CliRunner

from benchmarks.ingest.commands import print_ingest
from benchmarks.ingest.cpu import CpuSnapshot, cpu_report, server_processes
from wrenchlight.cli import build_app
from wrenchlight.embedded import EmbeddedPostgres

app = build_app()

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


@pytest.mark.child_clock
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
    # The bench database's whole server (background processes too), in the JSON and printed.
    server_cpu = f["postgres_server_cpu_s"]
    assert server_cpu == ours["cpu_s"]["postgres_server"]
    assert isinstance(server_cpu, float) and server_cpu > 0
    out = io.StringIO()
    print_ingest(Console(file=out, width=1000), f, 5, 1)
    printed = out.getvalue()
    assert "PostgreSQL CPU s" in printed
    assert f"PostgreSQL server in all {server_cpu:.2f}" in printed
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


@pytest.fixture
def second_postgres() -> Iterator[int]:
    """Another PostgreSQL on the machine (embedded 18, with its io workers): its postmaster."""
    home = Path(tempfile.mkdtemp(prefix="wl-second-pg-"))
    home.chmod(0o755)  # the server runs as another user when the tests run as root
    server = EmbeddedPostgres(home / "data")
    try:
        url = server.start()
        with psycopg.connect(url) as c:
            yield psutil.Process(c.execute("SELECT pg_backend_pid()").fetchone()[0]).ppid()
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_cpu_accounting_tells_the_bench_server_from_another_one(database_url, second_postgres):
    with psycopg.connect(database_url, autocommit=True) as conn:
        server = server_processes(conn)
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert server[backend].startswith("backend of ")
        [postmaster] = [pid for pid, role in server.items() if role == "postmaster"]
        assert psutil.Process(backend).ppid() == postmaster != second_postgres
        before = CpuSnapshot.take([backend], [], server)
        conn.execute("SELECT count(*) FROM generate_series(1, 300000)")
        after = CpuSnapshot.take([backend], [], server_processes(conn))
    report = cpu_report(before, after, {}, {backend: "generate_series"}, set())
    assert report["postgres_server"] is not None and report["postgres_server"] >= 0
    assert report["postgres_backends"] is not None and report["postgres_backends"] >= 0
    # The other server's processes are counted apart from ours, whatever their titles.
    others = {second_postgres, *(p.pid for p in psutil.Process(second_postgres).children())}
    assert second_postgres in after.processes
    for pid in others & set(after.processes):
        assert after.processes[pid][0] == "postgres (another server)"
    assert after.processes[postmaster][0] == "postgres postmaster"
