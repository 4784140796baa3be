# SPDX-License-Identifier: MIT
"""``wrenchlight admin broker-config`` writes a configuration Mosquitto starts with, secrets
readable by their owner only, service passwords kept across runs unless rotated."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess

import pytest
from private_servers import MOSQUITTO, _listening, _stop, _wait, free_port
from typer.testing import CliRunner

from api.devices.credentials import issue
from db import registry
from wrenchlight.cli import build_app

app = build_app()


def _run(db_url, *args):
    return CliRunner().invoke(app, list(args), env={"WRENCHLIGHT_DATABASE_URL": db_url})


@pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")
@pytest.mark.parametrize("mode", ["dynsec", "file"])
def test_broker_config_writes_a_configuration_mosquitto_accepts(db_url, conn, tmp_path, mode):
    vehicle_id = registry.create_vehicle(conn, vin="WLCFG000000000001")
    registry.register_device(conn, device_id="dongle-cfg", vehicle_id=vehicle_id)
    issue(conn=conn, device_id="dongle-cfg", created_by=None)
    out = tmp_path / "broker"
    port = free_port()
    done = _run(
        db_url,
        "admin",
        "broker-config",
        "--out",
        str(out),
        "--mode",
        mode,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    )
    assert done.exit_code == 0, done.output
    secrets_files = ["services.json", "ingest.env", "api.env"]
    secrets_files.append("dynamic-security.json" if mode == "dynsec" else "passwd")
    for name in secrets_files:
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    assert "dongle-cfg" in (out / secrets_files[-1]).read_text()
    # Mosquitto starts with it.
    with (out / "mosquitto.conf").open("a") as conf:
        conf.write(f"log_dest file {out}/log\n" + ("user root\n" if os.geteuid() == 0 else ""))
    broker = subprocess.Popen([MOSQUITTO, "-c", str(out / "mosquitto.conf")])
    try:
        _wait(lambda: _listening(port), broker, out / "log", "mosquitto")
    finally:
        _stop(broker, signal.SIGTERM)
    first = json.loads((out / "services.json").read_text())
    assert _run(db_url, "admin", "broker-config", "--out", str(out)).exit_code == 0
    assert json.loads((out / "services.json").read_text()) == first
    rotated = _run(db_url, "admin", "broker-config", "--out", str(out), "--rotate-services")
    assert rotated.exit_code == 0
    assert json.loads((out / "services.json").read_text())["wl~ingest"] != first["wl~ingest"]


def test_broker_config_refuses_a_device_holding_a_service_name(db_url, conn, tmp_path):
    vehicle_id = registry.create_vehicle(conn, vin="WLCFG000000000002")
    registry.register_device(conn, device_id="ingest", vehicle_id=vehicle_id)
    issue(conn=conn, device_id="ingest", created_by=None)
    done = _run(db_url, "admin", "broker-config", "--out", str(tmp_path / "b"))
    assert done.exit_code == 1
    assert "reserved for services" in done.output
