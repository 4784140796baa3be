# SPDX-License-Identifier: MIT
"""`wrenchlight shops demo`, `orders propose` and `orders timers` on the real database."""

import json

from orders_helpers import vehicle_with_alert
from typer.testing import CliRunner

import wrenchlight.commands  # registers `wrenchlight orders dispatch`
import wrenchlight.shops_cmds  # noqa: F401  (registers `shops`, `orders propose`)
from wrenchlight.cli import app


def _run(*args):
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.splitlines()[-1])


def test_demo_directory_then_propose_and_broadcast_from_the_command_line(conn, db_url, monkeypatch):
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", db_url)
    made = _run("shops", "demo", "--count", "60", "--country", "DE", "--seed", "1")
    assert made["inserted"] == 60 and made["slots"] > 0
    vehicle_with_alert(conn, vin="WLCL1000000000001", home=(52.52, 13.405))
    (order_id,) = _run("orders", "dispatch")["created"]
    proposed = _run("orders", "propose", "--mode", "broadcast", "--consent", "auto_book")
    assert proposed == {"matched": [order_id], "unmatched": []}
    status, offers = conn.execute(
        "SELECT status, (SELECT count(*) FROM service_offers f WHERE f.order_id = o.order_id) "
        "FROM service_orders o"
    ).fetchone()
    assert status == "offered" and 1 <= offers <= 3
    assert _run("orders", "timers") == {"breaches": []}
    result = CliRunner().invoke(app, ["orders", "propose", "--mode", "lottery"])
    assert result.exit_code == 2
