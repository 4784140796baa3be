# SPDX-License-Identifier: MIT
"""The fleet's approval policy over HTTP: the manager sets a cost limit on /app/fleet/policy
(a mistake is said next to its field, nothing saved); an order over it waits on
/app/fleet/approvals, as the API's list has it; a rejection needs a note; the approval is
recorded with who and why; the shop's job card says the order waits and refuses the check-in
until the fleet approves; the API's endpoints do the same; owners and shop staff get a plain
403, another fleet's manager a 404 and changes nothing."""

from __future__ import annotations

from decimal import Decimal

from fleet_helpers import fleet_order, manager, new_fleet
from shop_helpers import shop_staff
from test_web_sessions import csrf_of, sign_in
from web_helpers import AUTH
from web_order_helpers import open_shops, status_of

from api.auth.tokens import issue_access_token
from orders import approval, placement
from orders.policy import PlacementPolicy

VIN = "WLAPV000000000001"


def approval_of(conn, order_id: int) -> tuple:
    return conn.execute(
        "SELECT approval, approval_by, approval_note FROM service_orders WHERE order_id = %s",
        (order_id,),
    ).fetchone()


def approval_events(conn, order_id: int) -> list[tuple]:
    return conn.execute(
        "SELECT actor, note FROM service_order_events WHERE order_id = %s AND kind = 'approval' "
        "ORDER BY id",
        (order_id,),
    ).fetchall()


def bearer(user_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_access_token(AUTH, user_id)}"}


def set_limit(client, limit: str, currency: str = "eur"):
    page = client.get("/app/fleet/policy")
    assert page.status_code == 200, page.text
    return client.post(
        "/app/fleet/policy",
        data={"csrf_token": csrf_of(page.text), "limit": limit, "currency": currency},
    )


def test_the_manager_sets_the_limit_and_decides_an_order_over_it(client, conn):
    open_shops(conn)
    fleet_id = new_fleet(conn)
    boss = manager(conn, fleet_id)
    assert sign_in(client, boss.email).status_code == 303

    wrong = set_limit(client, "fifty", "euro")
    assert wrong.status_code == 422
    assert "Enter an amount such as 250" in wrong.text
    assert "three-letter currency code" in wrong.text
    assert approval.get_policy(conn, fleet_id=fleet_id) is None

    saved = set_limit(client, "50,00")
    assert saved.status_code == 303
    assert saved.headers["location"] == "/app/fleet/policy?done=saved"
    policy = approval.get_policy(conn, fleet_id=fleet_id)
    assert (policy.limit_amount, policy.currency) == (Decimal("50.00"), "EUR")
    assert policy.updated_by == f"user:{boss.user_id}"

    order_id = fleet_order(conn, fleet_id, vin=VIN)
    assert approval_of(conn, order_id)[0] == "pending"
    page = client.get("/app/fleet/approvals")
    assert page.status_code == 200
    assert f'id="order-{order_id}"' in page.text
    assert "€89.00" in page.text  # the best shop's estimate
    listed = client.get(f"/fleets/{fleet_id}/approvals", headers=bearer(boss.user_id)).json()
    assert [(i["order_id"], i["approval"], i["estimate"]) for i in listed] == [
        (order_id, "pending", 89.0)
    ]

    token = csrf_of(page.text)
    no_note = client.post(
        f"/app/fleet/approvals/{order_id}/reject", data={"csrf_token": token, "note": " "}
    )
    assert no_note.status_code == 422
    assert "say in the note why" in no_note.text
    assert approval_of(conn, order_id)[0] == "pending"
    too_long = client.post(
        f"/app/fleet/approvals/{order_id}/reject", data={"csrf_token": token, "note": "x" * 501}
    )
    assert too_long.status_code == 422
    assert "longer than 500 characters" in too_long.text
    assert approval_of(conn, order_id)[0] == "pending"

    done = client.post(
        f"/app/fleet/approvals/{order_id}/approve",
        data={"csrf_token": token, "note": "Needed before the tour"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/app/fleet/approvals?done=approved"
    assert approval_of(conn, order_id) == (
        "approved",
        f"user:{boss.user_id}",
        "Needed before the tour",
    )
    assert approval_events(conn, order_id)[-1] == (
        f"user:{boss.user_id}",
        "approved by the fleet: Needed before the tour",
    )
    after = client.get("/app/fleet/approvals?done=approved")
    assert "No order is waiting for your approval." in after.text
    assert "Approved by the fleet" in after.text
    again = client.post(
        f"/app/fleet/approvals/{order_id}/reject", data={"csrf_token": token, "note": "late"}
    )
    assert again.status_code == 409
    assert approval_of(conn, order_id)[0] == "approved"


def _booked_waiting(conn, vin: str) -> tuple[int, int]:
    """A fleet whose limit is 50 EUR and its order booked at the best shop, waiting."""
    open_shops(conn)
    fleet_id = new_fleet(conn)
    approval.set_policy(
        conn, fleet_id=fleet_id, limit_amount=Decimal(50), currency="EUR", actor="t", now=_now()
    )
    order_id = fleet_order(conn, fleet_id, vin=vin)
    placement.owner_confirm(conn=conn, order_id=order_id, now=_now(), policy=PlacementPolicy())
    placement.schedule(conn=conn, order_id=order_id, now=_now(), actor="fleet")
    assert status_of(conn, order_id) == "scheduled"
    return fleet_id, order_id


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _shop_of(conn, order_id: int) -> int:
    return conn.execute(
        "SELECT shop_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()[0]


def test_the_shop_sees_the_wait_and_cannot_check_in_until_approved(client, conn):
    _, order_id = _booked_waiting(conn, "WLAPV000000000002")
    staff = shop_staff(conn, _shop_of(conn, order_id))
    sign_in(client, staff.email)
    card = client.get(f"/app/shop/jobs/{order_id}")
    assert card.status_code == 200
    assert "Waiting for the fleet's approval" in card.text
    assert "Do not check the car in or start the work." in card.text
    assert ">Check in<" not in card.text
    inbox = client.get("/app/shop")
    assert "Waiting for the fleet's approval" in inbox.text
    refused = client.post(
        f"/app/shop/jobs/{order_id}/check-in", data={"csrf_token": csrf_of(card.text)}
    )
    assert refused.status_code == 409
    assert "waiting for the fleet's approval" in refused.text
    assert status_of(conn, order_id) == "scheduled"
    # The API refuses the same step with a problem naming the wait.
    api = client.post(f"/service-orders/{order_id}/check-in", headers=bearer(staff.user_id))
    assert api.status_code == 409 and api.json()["type"].endswith("awaiting-approval")

    approval.decide(
        conn, order_id=order_id, approve=False, actor="user:1", note="Own garage", now=_now()
    )
    card = client.get(f"/app/shop/jobs/{order_id}")
    assert "Rejected by the fleet." in card.text
    assert "The fleet's note: Own garage" in card.text
    assert ">Check in<" not in card.text


def test_the_api_sets_the_policy_and_decides(client, conn):
    fleet_id, order_id = _booked_waiting(conn, "WLAPV000000000003")
    boss = manager(conn, fleet_id)
    put = client.put(
        f"/fleets/{fleet_id}/approval-policy",
        json={"limit_amount": 40, "currency": "eur"},
        headers=bearer(boss.user_id),
    )
    assert put.status_code == 200, put.text
    assert (put.json()["limit_amount"], put.json()["currency"]) == (40.0, "EUR")
    got = client.get(f"/fleets/{fleet_id}/approval-policy", headers=bearer(boss.user_id))
    assert got.json()["limit_amount"] == 40.0

    detail = client.get(f"/service-orders/{order_id}", headers=bearer(boss.user_id)).json()
    assert detail["approval"]["state"] == "pending"
    staff = shop_staff(conn, _shop_of(conn, order_id))
    seen = client.get(f"/service-orders/{order_id}", headers=bearer(staff.user_id)).json()
    assert seen["approval"]["state"] == "pending"  # the shop sees the decision too
    by_shop = client.post(f"/service-orders/{order_id}/approve", headers=bearer(staff.user_id))
    assert by_shop.status_code == 403

    no_note = client.post(
        f"/service-orders/{order_id}/reject", json={"note": ""}, headers=bearer(boss.user_id)
    )
    assert no_note.status_code == 422
    rejected = client.post(
        f"/service-orders/{order_id}/reject",
        json={"note": "Too dear"},
        headers=bearer(boss.user_id),
    )
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["approval"] == {
        "state": "rejected",
        "by": f"user:{boss.user_id}",
        "at": body["approval"]["at"],
        "note": "Too dear",
    }
    assert any(
        e["kind"] == "approval" and e["note"] == "rejected by the fleet: Too dear"
        for e in body["events"]
    )
    twice = client.post(f"/service-orders/{order_id}/approve", headers=bearer(boss.user_id))
    assert twice.status_code == 409


def test_other_roles_and_fleets_are_refused(client, conn, owner):
    fleet_id, order_id = _booked_waiting(conn, "WLAPV000000000004")
    other_fleet = new_fleet(conn, "Other Fleet")
    stranger = manager(conn, other_fleet)

    # Another fleet's manager: not listed, not decided, the API's 404.
    sign_in(client, stranger.email)
    page = client.get("/app/fleet/approvals")
    assert page.status_code == 200 and f'id="order-{order_id}"' not in page.text
    for decision in ("approve", "reject"):
        refused = client.post(
            f"/app/fleet/approvals/{order_id}/{decision}",
            data={"csrf_token": csrf_of(page.text), "note": "mine now"},
        )
        assert refused.status_code == 404
    api = client.post(f"/service-orders/{order_id}/approve", headers=bearer(stranger.user_id))
    assert api.status_code == 404
    put = client.put(
        f"/fleets/{fleet_id}/approval-policy",
        json={"limit_amount": 1000, "currency": "EUR"},
        headers=bearer(stranger.user_id),
    )
    assert put.status_code == 404
    assert approval_of(conn, order_id)[0] == "pending"
    assert approval.get_policy(conn, fleet_id=fleet_id).limit_amount == Decimal("50.00")
    client.post("/app/signout", data={"csrf_token": csrf_of(page.text)})
    client.cookies.clear()

    # An owner and shop staff: a plain 403 on the pages.
    staff = shop_staff(conn, _shop_of(conn, order_id))
    for person in (owner, staff):
        sign_in(client, person.email)
        for path in ("/app/fleet/approvals", "/app/fleet/policy"):
            response = client.get(path)
            assert response.status_code == 403, (person, path)
            assert "Only for fleet managers" in response.text
        token = csrf_of(client.get("/app/settings").text)
        posted = client.post(f"/app/fleet/approvals/{order_id}/approve", data={"csrf_token": token})
        assert posted.status_code == 403
        client.cookies.clear()
    assert approval_of(conn, order_id)[0] == "pending"


def test_the_managers_order_page_shows_the_wait_and_links_to_the_decision(client, conn):
    fleet_id, order_id = _booked_waiting(conn, "WLAPV000000000005")
    sign_in(client, manager(conn, fleet_id).email)
    page = client.get(f"/app/orders/{order_id}")
    assert page.status_code == 200
    assert "Waiting for the fleet's approval" in page.text
    assert f'href="/app/fleet/approvals#order-{order_id}"' in page.text
