# SPDX-License-Identifier: MIT
"""The fleet's reports: KPIs per month with charts and per vehicle (costs, per km, downtime,
services on time, alerts raised and resolved), the CSV with the same figures, the weekly
summary's recipients (a wrong address named, nothing saved), and the summary itself arriving
in a real SMTP server once per week, in the recipient's language; owners and shop staff get a
plain 403, another fleet's vehicles are not in the report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import factories
from fleet_helpers import fleet_car, manager, new_fleet
from shop_helpers import shop_staff
from test_web_fleet_vehicle import fleet_van
from test_web_sessions import csrf_of, sign_in

from web import fleet_reports, fleet_summary
from web.pages import Pages

BASE = "https://wl.example.test"


def a_service(conn, vehicle_id: int, at: datetime, cost: str, *, on_time: bool = True) -> int:
    """A completed order of the vehicle with its report at ``at``, checked in 2 h before."""
    shop = factories.shop(conn, name="Isar Fleet Service").shop_id
    order = factories.order(conn, vehicle_id, shop_id=shop, status="completed").order_id
    conn.execute(
        "INSERT INTO service_reports (order_id, shop_id, work_done, cost, currency, on_time, "
        "reported_at) VALUES (%s, %s, 'Front pads replaced', %s, 'EUR', %s, %s)",
        (order, shop, cost, on_time, at),
    )
    conn.execute(
        "INSERT INTO service_order_events (order_id, status, from_status, kind, actor, at) "
        "VALUES (%s, 'checked_in', 'scheduled', 'transition', 'shop', %s)",
        (order, at - timedelta(hours=2)),
    )
    return order


def test_the_report_page_and_its_csv(client, conn):
    now = datetime.now(UTC)
    fleet_id = new_fleet(conn)
    van = fleet_van(conn, fleet_id, now)  # 89 EUR 40 days ago, 450 km, 3 h at the shop
    other = new_fleet(conn, "Other Fleet")
    stranger = fleet_car(conn, other, vin="WLRPT000000000009").vehicle_id
    sign_in(client, manager(conn, fleet_id).email)
    page = client.get("/app/fleet/reports")
    assert page.status_code == 200, page.text
    text = page.text
    for chart in ("cost-chart", "downtime-chart", "on-time-chart", "raised-chart"):
        assert f'id="{chart}-title"' in text
    assert "€89.00" in text and "€0.20" in text  # costs, and per km (89 over 450 km)
    assert "3.0 h" in text and "100 %" in text  # downtime; one service, on time
    assert f'id="report-vehicle-{van}"' in text
    assert f'id="report-vehicle-{stranger}"' not in text
    month = fleet_reports.month_start(now - timedelta(days=40)).strftime("%Y-%m")
    assert f'<th scope="row">{month}</th>' in text
    assert 'href="/app/fleet/reports.csv?months=6"' in text

    # A period not offered falls back to six months; twelve are offered.
    assert '<option value="6" selected>' in client.get("/app/fleet/reports?months=5").text
    assert '<option value="12" selected>' in client.get("/app/fleet/reports?months=12").text

    response = client.get("/app/fleet/reports.csv?months=3")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    vehicles = [r for r in rows if r["section"] == "vehicle"]
    assert [int(r["vehicle_id"]) for r in vehicles] == [van]
    assert vehicles[0]["cost_EUR"] == "89.00"
    assert float(vehicles[0]["km"]) == 450.0
    assert abs(float(vehicles[0]["cost_per_km_EUR"]) - 89 / 450) < 1e-4
    assert vehicles[0]["downtime_h"] == "3.0"
    months = {r["month"]: r for r in rows if r["section"] == "month"}
    assert len(months) == 3
    assert months[month]["cost_EUR"] == "89.00" and months[month]["services"] == "1"


def test_recipients_are_saved_or_refused_with_the_word_named(client, conn):
    fleet_id = new_fleet(conn)
    sign_in(client, manager(conn, fleet_id).email)
    token = csrf_of(client.get("/app/fleet/reports").text)
    wrong = client.post(
        "/app/fleet/reports/recipients",
        data={"csrf_token": token, "recipients": "ops@becker.example\nnot-an-address"},
    )
    assert wrong.status_code == 422
    assert "Not an email address: not-an-address. Nothing was saved." in wrong.text
    assert fleet_summary.recipients(conn, fleet_id=fleet_id) == []
    saved = client.post(
        "/app/fleet/reports/recipients",
        data={"csrf_token": token, "recipients": "ops@becker.example, cfo@becker.example\n"},
    )
    assert saved.status_code == 303
    assert fleet_summary.recipients(conn, fleet_id=fleet_id) == [
        "cfo@becker.example",
        "ops@becker.example",
    ]
    assert "The recipients are saved." in client.get(saved.headers["location"]).text


def test_the_weekly_summary_arrives_once_in_each_recipients_language(conn, smtp):
    now = datetime.now(UTC)
    start, _ = fleet_reports.week_of(now)
    fleet_id = new_fleet(conn)
    van = fleet_van(conn, fleet_id, now)
    a_service(conn, van, start + timedelta(days=1, hours=10), "120.00")
    a_service(conn, van, start - timedelta(hours=1), "999.00")  # the week before: not in it
    reader = factories.user(conn, "fleet_manager", fleet_id=fleet_id)
    conn.execute("UPDATE users SET language = 'zh_Hans' WHERE user_id = %s", (reader.user_id,))
    fleet_summary.set_recipients(
        conn, fleet_id=fleet_id, emails=["ops@becker.example", reader.email]
    )
    other = new_fleet(conn, "No Recipients")
    a_service(conn, fleet_car(conn, other, vin="WLRPT000000000008").vehicle_id, start, "5.00")

    def run(at: datetime):
        return fleet_summary.send_due(
            conn,
            Pages(),
            smtp_url=f"smtp://127.0.0.1:{smtp.port}",
            mail_from="Wrenchlight <fleet@wl.example.test>",
            base_url=BASE,
            now=at,
        )

    assert run(now) == [(fleet_id, 2)]
    message = smtp.mailbox.wait_for("ops@becker.example")
    assert message["Subject"].startswith("Becker Logistics: the week of ")
    text = message.get_content()
    assert "Services completed: 1, 1 on time." in text
    assert "Service costs: €120.00" in text and "999" not in text
    assert "Downtime at the shop: 2.0 h" in text
    assert f"{BASE}/app/fleet/reports" in text
    chinese = smtp.mailbox.wait_for(reader.email).get_content()
    assert "完成的保养" in chinese, chinese

    # Once per week: a second run, later the same week, sends nothing.
    assert run(now + timedelta(minutes=5)) == []
    assert len(smtp.mailbox.to("ops@becker.example")) == 1
    assert len(smtp.mailbox.messages) == 2
    # Next week's run sends the next summary.
    assert run(now + timedelta(days=7)) == [(fleet_id, 2)]
    smtp.mailbox.wait_for_count("ops@becker.example", 2)


def test_other_roles_are_refused(client, conn, owner):
    now = datetime.now(UTC)
    fleet_id = new_fleet(conn)
    van = fleet_van(conn, fleet_id, now)
    shop = conn.execute("SELECT shop_id FROM shops LIMIT 1").fetchone()[0]
    for person in (owner, shop_staff(conn, shop)):
        sign_in(client, person.email)
        for path in ("/app/fleet/reports", "/app/fleet/reports.csv"):
            response = client.get(path)
            assert response.status_code == 403, path
            assert str(van) not in response.text or "Only for fleet managers" in response.text
        token = csrf_of(client.get("/app/settings").text)
        posted = client.post(
            "/app/fleet/reports/recipients",
            data={"csrf_token": token, "recipients": "x@y.example"},
        )
        assert posted.status_code == 403
        client.cookies.clear()
    assert fleet_summary.recipients(conn, fleet_id=fleet_id) == []


def test_the_command_sends_the_summary_once(conn, db_url, smtp, monkeypatch):
    import json

    from typer.testing import CliRunner

    from wrenchlight.cli import build_app

    now = datetime.now(UTC)
    fleet_id = new_fleet(conn)
    fleet_van(conn, fleet_id, now)
    fleet_summary.set_recipients(conn, fleet_id=fleet_id, emails=["ops@becker.example"])
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", db_url)
    monkeypatch.setenv("WRENCHLIGHT_SMTP_URL", f"smtp://127.0.0.1:{smtp.port}")
    app = build_app()
    first = CliRunner().invoke(app, ["notify", "weekly-summary", "--json"])
    assert first.exit_code == 0, first.output
    # The last line is the command's (the SMTP server of the test logs to the same stream).
    assert json.loads(first.output.splitlines()[-1]) == {
        "sent": [{"fleet_id": fleet_id, "recipients": 1}]
    }
    assert "Becker Logistics" in smtp.mailbox.wait_for("ops@becker.example")["Subject"]
    again = CliRunner().invoke(app, ["notify", "weekly-summary", "--json"])
    assert json.loads(again.output.splitlines()[-1]) == {"sent": []}
    assert len(smtp.mailbox.to("ops@becker.example")) == 1
