# SPDX-License-Identifier: MIT
"""``wrenchlight vehicles mass``: what the registration says of a car's mass, from the CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from db.registry import create_vehicle
from predictive.mass import BODY_CLASSES, UNKNOWN
from wrenchlight.cli import build_app

app = build_app()
VIN = "WLCLXMASS00000001"


def _run(db_url, *args):
    return CliRunner().invoke(app, list(args), env={"WRENCHLIGHT_DATABASE_URL": db_url})


def test_set_show_and_clear(conn, db_url):
    create_vehicle(conn, vin=VIN)
    shown = _run(db_url, "vehicles", "mass", VIN, "--json")
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert doc["mass_kg"] is None and doc["model_mass_source"] == "unknown"
    assert doc["model_mass_kg"] == UNKNOWN.default_kg
    body = json.loads(_run(db_url, "vehicles", "mass", VIN, "--body-type", "van", "--json").stdout)
    assert body["model_mass_kg"] == BODY_CLASSES["van"].default_kg
    typed = _run(db_url, "vehicles", "mass", VIN, "--mass-kg", "2350", "--json")
    assert json.loads(typed.stdout)["model_mass_source"] == "registered"
    assert conn.execute("SELECT mass_kg, body_type FROM vehicles").fetchone() == (2350, "van")
    cleared = _run(db_url, "vehicles", "mass", VIN, "--clear-mass", "--json")
    assert json.loads(cleared.stdout)["model_mass_source"] == "body_type"


def test_refuses_what_the_api_refuses(conn, db_url):
    create_vehicle(conn, vin=VIN)
    for args in (("--mass-kg", "120"), ("--body-type", "limousine")):
        refused = _run(db_url, "vehicles", "mass", VIN, *args)
        assert refused.exit_code == 2
    assert conn.execute("SELECT mass_kg, body_type FROM vehicles").fetchone() == (None, None)
