# SPDX-License-Identifier: MIT
"""The demo's summary names the web app and one sign-in per role, the owner first, the one
whose order waits for them, each with what waits for it and its link; every line within 80
columns."""

from __future__ import annotations

import io
import re

from demo_cars import FUELS, demo_cars
from fastapi.testclient import TestClient
from rich.console import Console

import web
from api import create_app
from api.auth import AuthConfig
from wrenchlight.demo import DEMO_ADMIN
from wrenchlight.demo_summary import print_sign_ins, sign_ins
from wrenchlight.demo_world import build_world

DOMAIN = "demo.wrenchlight.invalid"


def _account(role: str, name: str, todo: str = "") -> dict:
    return {"role": role, "email": f"{name}.s7@{DOMAIN}", "password": "pw-" + name, "todo": todo}


ACCOUNTS = [
    _account("admin", "admin"),
    _account("owner", "blair", "order offered to shops: 13; visit booked: 14"),
    _account("owner", "alex", "confirm order 12"),
    _account("fleet_manager", "morgan", "confirm order 16; report of order 15"),
    _account("shop_staff", "sam", "accept the offer of order 13"),
    _account("shop_staff", "kim", "accept the offer of order 13"),
]


def test_one_sign_in_per_role_the_owner_with_the_order_to_confirm():
    chosen = sign_ins(ACCOUNTS, awaiting=12)
    assert [(a["role"], a["email"].split(".")[0]) for a in chosen] == [
        ("owner", "alex"),
        ("shop_staff", "sam"),
        ("fleet_manager", "morgan"),
        ("admin", "admin"),
    ]
    assert sign_ins(ACCOUNTS, awaiting=None)[0]["email"].startswith("blair.")


def test_the_summary_prints_the_app_and_the_sign_ins_within_80_columns():
    out = io.StringIO()
    console = Console(file=out, width=80, color_system=None)
    app = "http://127.0.0.1:8000/app"
    orders = {"awaiting_owner": 12, "offered": 13, "scheduled": 14, "awaiting_approval": 17}
    print_sign_ins(console, app, ACCOUNTS, orders, mailbox=True, applied=True)
    lines = out.getvalue().splitlines()
    assert "Web app http://127.0.0.1:8000/app/  sign in as:" in lines
    assert all(len(line) <= 80 for line in lines), lines
    text = out.getvalue()
    for role, name in (("owner", "alex"), ("shop staff", "sam"), ("fleet manager", "morgan")):
        assert f"  {role:<14}{name}.s7@{DOMAIN}" in text and f"pw-{name}" in text
    assert f"{'admin':<14}admin.s7@{DOMAIN}" in text
    # Each role's sign-in says what waits for it and where, right under it.
    for role, step in (
        ("owner", "    an order to confirm: http://127.0.0.1:8000/app/orders/12"),
        ("shop staff", "    an offer to answer: http://127.0.0.1:8000/app/shop"),
        ("fleet manager", "    an order to approve: http://127.0.0.1:8000/app/fleet/approvals"),
        ("admin", "    a shop's application to verify: http://127.0.0.1:8000/app/admin/shops"),
    ):
        (at,) = [i for i, line in enumerate(lines) if line.startswith(f"  {role:<14}")]
        assert lines[at + 1] == step, lines
    assert "  the mail they were sent, once signed in: http://127.0.0.1:8000/app/demo/mail" in lines


def test_the_demo_owner_signs_in_to_cars_and_an_order_to_confirm(conn, db_url):
    world = build_world(conn=conn, devices=demo_cars(conn, FUELS), admin_email=DEMO_ADMIN, seed=7)
    awaiting = world.orders["awaiting_owner"]
    alex = sign_ins(world.accounts_json(), awaiting)[0]
    auth = AuthConfig(jwt_secret="demo-sign-in-tests-only-secret-of-48-bytes-0123")
    app = web.mount(create_app(db_url, auth=auth), web.WebConfig(smtp_url=None))
    with TestClient(app, follow_redirects=False) as client:
        form = client.get("/app/signin").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        signed = client.post(
            "/app/signin",
            data={"email": alex["email"], "password": alex["password"], "csrf_token": token},
        )
        assert signed.status_code == 303
        cars = client.get("/app/cars").text
        assert "Oil life" in cars and all(f"car-{v}" in cars for v in alex["vehicle_ids"])
        orders = client.get("/app/orders").text
        assert orders.index("Waiting for you") < orders.index(f"/app/orders/{awaiting}")
        order = client.get(f"/app/orders/{awaiting}").text
        assert "Proposed service:" in order and "Confirm and book" in order
