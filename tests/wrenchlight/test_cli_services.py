# SPDX-License-Identifier: MIT
"""The CLI finds its services, says in one line when it cannot, and shows vehicles and orders."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from db.registry import create_vehicle
from wrenchlight.rundir import DataDirLock

WRENCHLIGHT = str(Path(sys.executable).parent / "wrenchlight")
VIN = "1HGCM82633A004352"


def _run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WRENCHLIGHT_")}
    return subprocess.run(
        [WRENCHLIGHT, *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_bad_database_url_is_one_line_with_what_to_do(tmp_path):
    url = f"postgresql://postgres@127.0.0.1:{_free_port()}/nowhere"
    done = _run("db", "migrate", WRENCHLIGHT_DATABASE_URL=url)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cannot connect to the database" in done.stderr
    assert "WRENCHLIGHT_DATABASE_URL" in done.stderr and "--debug" in done.stderr
    debug = _run("--debug", "db", "migrate", WRENCHLIGHT_DATABASE_URL=url)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_an_unreachable_broker_is_one_line(db_url):
    url = f"mqtt://127.0.0.1:{_free_port()}"
    done = _run("ingest", WRENCHLIGHT_DATABASE_URL=db_url, WRENCHLIGHT_MQTT_URL=url)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert f"cannot reach the MQTT broker at {url}" in done.stderr


def test_api_on_a_taken_port_serves_on_a_free_one_and_prints_it(db_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        explicit = _run("api", "--port", str(port), WRENCHLIGHT_DATABASE_URL=db_url)
        assert explicit.returncode == 2
        assert f"port {port} on 127.0.0.1 is taken" in explicit.stderr
        assert "--port" in explicit.stderr and len(explicit.stderr.strip().splitlines()) == 1
        base = {k: v for k, v in os.environ.items() if not k.startswith("WRENCHLIGHT_")}
        proc = subprocess.Popen(
            [WRENCHLIGHT, "api"],
            env={**base, "WRENCHLIGHT_DATABASE_URL": db_url, "WRENCHLIGHT_API_PORT": str(port)},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line.startswith("API at http://127.0.0.1:"), line
            url = line.split()[2]
            assert not url.endswith(f":{port}")
            for _ in range(200):
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                        assert r.status == 200
                    break
                except OSError:
                    assert proc.poll() is None
                    time.sleep(0.1)
            else:
                pytest.fail("the API never answered")
        finally:
            proc.terminate()
            proc.communicate(timeout=30)


def test_without_a_url_the_cli_uses_the_running_demo_s_database(tmp_path, conn, db_url):
    vehicle_id = create_vehicle(conn, vin=VIN, make="VW", model="Golf")
    data_dir = tmp_path / "data"
    # What a running demo holds and writes (wrenchlight.services.start_services).
    with DataDirLock(data_dir, "demo") as demo:
        demo.update(database_url=db_url, api_url="http://127.0.0.1:1")
        listed = _run("vehicles", "list", "--json", WRENCHLIGHT_DATA_DIR=str(data_dir))
        assert listed.returncode == 0, listed.stderr
        [row] = json.loads(listed.stdout)
        assert row["vin"] == VIN and row["vehicle_id"] == vehicle_id
        shown = _run("vehicles", "show", VIN.lower(), "--json", WRENCHLIGHT_DATA_DIR=str(data_dir))
        assert shown.returncode == 0, shown.stderr
        doc = json.loads(shown.stdout)
        assert doc["vehicle_id"] == vehicle_id
        assert doc["open_alerts"] == [] and doc["open_orders"] == []
        table = _run("vehicles", "list", WRENCHLIGHT_DATA_DIR=str(data_dir))
        assert VIN in table.stdout
        assert max(len(line) for line in table.stdout.splitlines()) <= 80
        orders = _run("orders", "list", "--json", WRENCHLIGHT_DATA_DIR=str(data_dir))
        assert orders.returncode == 0 and json.loads(orders.stdout) == []
        missing = _run("orders", "show", "999999", WRENCHLIGHT_DATA_DIR=str(data_dir))
        assert missing.returncode == 1 and "no order 999999" in missing.stderr
        # Another demo (or command that would start embedded services) is refused meanwhile.
        refused = _run("demo", "--exit", WRENCHLIGHT_DATA_DIR=str(data_dir))
        assert refused.returncode == 2
        assert f"pid {os.getpid()}" in refused.stderr and "http://127.0.0.1:1" in refused.stderr


def test_without_a_url_or_a_demo_the_data_directory_s_postgres_runs_for_the_command(tmp_path):
    data_dir = tmp_path / "data"
    done = _run("db", "migrate", WRENCHLIGHT_DATA_DIR=str(data_dir), timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("database at revision ")
    # Stopped after the command, lock free, nothing left behind.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert not (data_dir / "wrenchlight.json").exists()
    with DataDirLock(data_dir, "test"):
        pass
