# SPDX-License-Identifier: MIT
"""A vehicle of the fleet for its manager: the owner's charts and history, plus its service
costs (in all, per km driven), its downtime at the shop (check-in to the report) and the time
an urgent alert stood open; linked from the health table. Another fleet's vehicle, and an
owner's car, are a 404; owners and shop staff get a plain 403."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from car_history import make_car_with_history
from fleet_helpers import fleet_car, manager, new_fleet
from shop_helpers import shop_staff
from test_web_sessions import sign_in
from web_helpers import make_owner

from web import fleet_reports
from web.routes.fleet_vehicle import EPOCH


def fleet_van(conn, fleet_id: int, now: datetime, vin: str = "WLVAN000000000001") -> int:
    """The car page's car with history, moved into the fleet: 450 km driven on record (ten
    days of readings up to 48,213.4 km), one 89 EUR service whose car was at the shop 3 h,
    an urgent alert open for 10 h."""
    vehicle_id = make_car_with_history(conn, make_owner(conn), vin=vin, now=now)
    conn.execute(
        "UPDATE vehicles SET owner_user_id = NULL, fleet_id = %s WHERE vehicle_id = %s",
        (fleet_id, vehicle_id),
    )
    order_id = conn.execute(
        "SELECT order_id FROM service_reports r JOIN service_orders o USING (order_id) "
        "WHERE o.vehicle_id = %s",
        (vehicle_id,),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO service_order_events (order_id, status, from_status, kind, actor, at) "
        "VALUES (%s, 'checked_in', 'scheduled', 'transition', 'shop', %s)",
        (order_id, now - timedelta(days=40, hours=3)),
    )
    conn.execute(
        "UPDATE alerts SET created_at = %s WHERE vehicle_id = %s",
        (now - timedelta(hours=10), vehicle_id),
    )
    return vehicle_id


def test_the_figures_of_one_vehicle(conn):
    now = datetime.now(UTC)
    fleet_id = new_fleet(conn)
    vehicle_id = fleet_van(conn, fleet_id, now)
    [figures] = fleet_reports.vehicles(
        conn, fleet_id=fleet_id, since=EPOCH, end=now, vehicle_id=vehicle_id
    )
    assert figures.cost == {"EUR": 89.0}
    assert figures.km == pytest.approx(450.0, abs=0.01)
    assert figures.per_km("EUR") == pytest.approx(89.0 / 450.0)
    assert (figures.services, figures.on_time) == (1, 1)
    assert figures.downtime_h == pytest.approx(3.0)
    assert figures.urgent_h == pytest.approx(10.0, abs=0.01)
    assert not figures.in_shop
    # A window after the service: no cost, no downtime; the distance driven within it.
    [later] = fleet_reports.vehicles(
        conn,
        fleet_id=fleet_id,
        since=now - timedelta(days=5, hours=12),
        end=now,
        vehicle_id=vehicle_id,
    )
    assert later.cost == {} and later.downtime_h == 0.0
    assert 0 < later.km < 450.0


def test_the_manager_sees_charts_history_costs_and_downtime(client, conn):
    now = datetime.now(UTC)
    fleet_id = new_fleet(conn)
    vehicle_id = fleet_van(conn, fleet_id, now)
    boss = manager(conn, fleet_id)
    sign_in(client, boss.email)
    table = client.get("/app/fleet")
    assert f'href="/app/fleet/vehicles/{vehicle_id}"' in table.text
    page = client.get(f"/app/fleet/vehicles/{vehicle_id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert 'id="oil-chart-title"' in text and 'id="distance-chart-title"' in text
    assert "Service history" in text and "Oak Park Auto Service" in text
    assert "Costs and downtime" in text
    assert "€89.00" in text
    assert "€0.20" in text  # 89 EUR over 450 km
    assert "450 km" in text
    assert "3.0 h" in text and "10.0 h" in text
    assert "1, 1 on time" in text


def test_refusals(client, conn, owner):
    now = datetime.now(UTC)
    fleet_id = new_fleet(conn)
    vehicle_id = fleet_van(conn, fleet_id, now)
    other = new_fleet(conn, "Other Fleet")
    theirs = fleet_car(conn, other, vin="WLVAN000000000002").vehicle_id
    owners_car = make_car_with_history(conn, owner, vin="WLVAN000000000003", now=now)
    sign_in(client, manager(conn, fleet_id).email)
    for missing in (theirs, owners_car, 2**62):
        response = client.get(f"/app/fleet/vehicles/{missing}")
        assert response.status_code == 404, missing
        assert "WLVAN000000000002" not in response.text
    client.cookies.clear()
    for person in (
        owner,
        shop_staff(conn, conn.execute("SELECT shop_id FROM shops LIMIT 1").fetchone()[0]),
    ):
        sign_in(client, person.email)
        response = client.get(f"/app/fleet/vehicles/{vehicle_id}")
        assert response.status_code == 403
        assert "Only for fleet managers" in response.text
        client.cookies.clear()
