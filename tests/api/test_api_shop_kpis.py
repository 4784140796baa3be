# SPDX-License-Identifier: MIT
"""``GET /shops/{id}/kpis``: the figures of ``orders.kpis`` for the shop's staff and admins,
the same numbers as the hand-built history's, and the refusals."""

from datetime import timedelta

import factories
from api_helpers import make_caller
from kpi_history import build


def _get(client, caller, shop_id, **params):
    return client.get(f"/shops/{shop_id}/kpis", params=params, headers=caller.headers)


def test_staff_read_their_shops_figures(client, conn):
    history = build(conn)
    staff = make_caller(conn, "shop_staff", shop_id=history.shop_id)
    end = history.monday + timedelta(days=20)
    answer = _get(client, staff, history.shop_id, **{"from": history.monday, "to": end})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["from"], body["to"], body["bucket"]) == (str(history.monday), str(end), "week")
    assert (body["currency"], body["time_zone"], body["other_currency_visits"]) == ("EUR", "UTC", 1)
    assert body["acceptance_rate"]["value"] == 0.5
    assert [p["value"] for p in body["acceptance_rate"]["series"]] == [0.333, 1.0, None]
    assert body["response_time_median_s"]["value"] == 120.0
    assert body["conversion_rate"]["value"] == 0.4
    assert body["on_time_rate"]["value"] == 0.667
    assert body["return_rate"]["value"] == 0.333
    assert (body["revenue"]["value"], body["revenue"]["count"]) == (150.5, 2)
    assert body["survey_score"]["value"] == 8.33
    assert body["nps"]["value"] == 33.3
    assert body["nps"]["series"][2] == {
        "start": str(history.monday + timedelta(weeks=2)),
        "value": None,
        "count": 0,
    }


def test_months_and_defaults(client, conn, admin):
    history = build(conn)
    monthly = _get(client, admin, history.shop_id, bucket="month").json()
    assert all(p["start"].endswith("-01") for p in monthly["nps"]["series"])
    default = _get(client, admin, history.shop_id).json()
    assert len(default["nps"]["series"]) == 12
    assert default["bucket"] == "week"


def test_a_shop_without_data_has_null_figures(client, conn):
    shop = factories.shop(conn).shop_id
    staff = make_caller(conn, "shop_staff", shop_id=shop)
    body = _get(client, staff, shop).json()
    assert body["nps"] == {"value": None, "count": 0, "series": body["nps"]["series"]}
    assert body["revenue"]["value"] is None


def test_refusals_are_problem_details(client, conn):
    shop = factories.shop(conn).shop_id
    other = factories.shop(conn).shop_id
    staff = make_caller(conn, "shop_staff", shop_id=shop)
    missing = _get(client, staff, other)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    fleet = factories.fleet(conn).fleet_id
    for caller in (make_caller(conn, "owner"), make_caller(conn, "fleet_manager", fleet_id=fleet)):
        refused = _get(client, caller, shop)
        assert refused.status_code == 403, caller.role
        assert refused.headers["content-type"] == "application/problem+json"
    backwards = _get(client, staff, shop, **{"from": "2026-02-02", "to": "2026-02-01"})
    assert backwards.status_code == 400
    assert backwards.json()["type"].endswith("/bad-period")
    too_long = _get(client, staff, shop, **{"from": "2020-01-01", "to": "2026-01-01"})
    assert too_long.status_code == 400
    assert _get(client, staff, shop, bucket="day").status_code == 422
    assert client.get(f"/shops/{shop}/kpis").status_code == 401


def test_days_far_off_are_refused_not_a_crash(client, conn):
    # The API's input hygiene refuses days outside 1900-2200 (422 out_of_range) before the
    # KPIs' own check (orders.kpis.YEARS, tested there) is reached.
    shop = factories.shop(conn).shop_id
    staff = make_caller(conn, "shop_staff", shop_id=shop)
    for params in ({"from": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "9999-12-25"}):
        answer = _get(client, staff, shop, **params)
        assert answer.status_code == 422, params
        assert answer.headers["content-type"] == "application/problem+json"
