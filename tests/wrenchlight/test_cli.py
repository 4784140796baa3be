# SPDX-License-Identifier: MIT
"""The command-line tool: decode, the pty dongle, settings and the demo end to end."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from telemetry import Batch, Series, encode
from wrenchlight.cli import build_app
from wrenchlight.settings import Settings

app = build_app()

VIN = "1HGCM82633A004352"
WRENCHLIGHT = str(Path(sys.executable).parent / "wrenchlight")


def _batch():
    return Batch(
        "car-1", 3, VIN, 1_763_700_000_000, (Series("speed_kmh", (0, 1000), (12.0, 14.0)),)
    )


@pytest.mark.parametrize("fmt", ["binary", "json"])
def test_telemetry_decode_prints_json(fmt):
    result = CliRunner().invoke(
        app, ["telemetry", "decode", "--no-pretty"], input=encode(_batch(), fmt)
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["seq"] == 3 and doc["signals"]["speed_kmh"]["v"] == [12.0, 14.0]


def test_telemetry_decode_rejects_garbage_with_exit_1():
    result = CliRunner().invoke(app, ["telemetry", "decode"], input=b"\x00garbage")
    assert result.exit_code == 1
    assert "invalid payload" in result.output


def test_settings_come_from_prefixed_environment(monkeypatch):
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", "postgresql://x@h/db")
    monkeypatch.setenv("WRENCHLIGHT_OIL_ALERT_PCT", "20")
    settings = Settings()
    assert settings.database_url == "postgresql://x@h/db" and settings.oil_alert_pct == 20.0


def test_every_group_answers_help():
    runner = CliRunner()
    groups = ["db", "telemetry", "predictive", "orders", "admin", "bench", "sim", "vehicles"]
    for args in ([], *([g] for g in [*groups, "shops", "webhooks"])):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert "Usage:" in result.output


def test_bench_without_the_benchmarks_package_says_where_they_run(monkeypatch):
    """An installed wheel has no `benchmarks`: `bench` says, in one line, to use a checkout."""
    monkeypatch.setitem(sys.modules, "benchmarks", None)
    monkeypatch.setitem(sys.modules, "benchmarks.commands", None)
    result = CliRunner().invoke(build_app(), ["bench", "ingest", "--json"])
    assert result.exit_code == 2, result.output
    assert "source checkout" in result.output and "make bench" in result.output


def test_sim_dongle_prints_pty_path_first_and_answers_obd():
    proc = subprocess.Popen(
        [WRENCHLIGHT, "sim", "dongle", "--pty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/pts/"), path
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"ATZ\r")
            reply = b""
            while not reply.endswith(b">"):
                reply += os.read(fd, 256)
            assert b"ELM327" in reply
        finally:
            os.close(fd)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


@pytest.mark.e2e
def test_demo_runs_the_whole_flow_and_ends_with_json(db_url, mqtt_url, tmp_path):
    env = {
        **os.environ,
        "WRENCHLIGHT_DATABASE_URL": db_url,
        "WRENCHLIGHT_MQTT_URL": mqtt_url,
        "WRENCHLIGHT_API_PORT": "0",
        "WRENCHLIGHT_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [
            WRENCHLIGHT,
            "demo",
            "--vehicles",
            "3",
            "--days",
            "3",
            "--live-seconds",
            "6",
            "--exit",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["vehicles"] == 4
    assert summary["samples_ingested"] > 10_000
    assert summary["batches"] == summary["batches_published"]
    assert summary["live_vehicle"]["vin_read_via_obd"]
    assert summary["api_url"].startswith("http://127.0.0.1:")
    assert f"web app at {summary['api_url']}/app/" in " ".join(result.stderr.split())
    for key in ("alerts", "service_orders"):
        assert isinstance(summary[key], int)
