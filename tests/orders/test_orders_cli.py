# SPDX-License-Identifier: MIT
"""`wrenchlight shops demo`, `orders propose` and `orders timers` on the real database."""

import json

from orders_helpers import vehicle_with_alert
from typer.testing import CliRunner

from wrenchlight.cli import build_app

app = build_app()


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


def test_orders_list_and_show_read_an_order_and_its_timeline(conn, db_url, monkeypatch):
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", db_url)
    _run("shops", "demo", "--count", "30", "--country", "DE", "--seed", "2")
    vehicle_id, _ = vehicle_with_alert(conn, vin="WLCL2000000000002", home=(52.52, 13.405))
    (order_id,) = _run("orders", "dispatch")["created"]
    _run("orders", "propose", "--mode", "broadcast", "--consent", "auto_book")
    listed = _run("orders", "list", "--vehicle", str(vehicle_id))
    assert [o["order_id"] for o in listed] == [order_id]
    shown = _run("orders", "show", str(order_id))
    assert shown["order_id"] == order_id and shown["vin"] == "WLCL2000000000002"
    assert [e["status"] for e in shown["events"]][:2] == ["proposed", "offered"]
    table = CliRunner().invoke(app, ["orders", "show", str(order_id)])
    assert table.exit_code == 0 and f"order {order_id}" in table.stdout
