# SPDX-License-Identifier: MIT
"""The admin's console over HTTP: every section for an admin, a plain 403 for every other
role (pages and steps), the sign-in page for nobody, the form token on every step; each step
done through the API's services and written to the audit log with who and what."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import factories
import httpx2
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb
from test_web_sessions import csrf_of, sign_in
from web_browser import ThreadServer
from web_helpers import AUTH, PASSWORD, web_app

from api.auth.keys import create_key
from api.auth.tokens import issue_access_token

PAGES = (
    "/app/admin",
    "/app/admin/shops",
    "/app/admin/fleets",
    "/app/admin/users",
    "/app/admin/users/1",
    "/app/admin/audit",
    "/app/admin/dead-letters",
    "/app/admin/devices",
)
STEPS = (
    "/app/admin/shops/1/verify",
    "/app/admin/shops/1/reject",
    "/app/admin/fleets",
    "/app/admin/fleets/1/manager",
    "/app/admin/users/1/disable",
    "/app/admin/users/1/enable",
    "/app/admin/keys/1/revoke",
)


def person(conn, role: str, **tenancy):
    """A user of ``role`` with the tests' password."""
    return factories.user(conn, role, password=PASSWORD, **tenancy)


def as_user(client: TestClient, email: str) -> str:
    """Sign ``client`` in as ``email`` (anyone before signed out); the session's form token."""
    client.cookies.clear()
    assert sign_in(client, email).status_code == 303
    return csrf_of(client.get("/app/settings").text)


def post(client: TestClient, path: str, csrf: str, **data: str):
    """A console step with the session's form token."""
    return client.post(path, data={"csrf_token": csrf, **data})


def audit_rows(conn) -> list[tuple]:
    """(user_id, status, object_type, object_id, detail) of the audit log, oldest first."""
    return conn.execute(
        "SELECT user_id, status, object_type, object_id, detail FROM audit_log "
        "WHERE path LIKE '/app/admin/%' ORDER BY id"
    ).fetchall()


@pytest.fixture
def admin(conn):
    """An admin with a password."""
    return person(conn, "admin")


def test_every_other_role_gets_a_plain_403_and_nobody_the_sign_in_page(client, conn, admin):
    fleet = factories.fleet(conn)
    shop = factories.shop(conn)
    others = [
        person(conn, "owner"),
        person(conn, "shop_staff", shop_id=shop.shop_id),
        person(conn, "fleet_manager", fleet_id=fleet.fleet_id),
    ]
    for other in others:
        csrf = as_user(client, other.email)
        assert 'href="/app/admin"' not in client.get("/app/settings").text  # no link for them
        for path in PAGES:
            page = client.get(path)
            assert page.status_code == 403, (other.role, path)
            assert "Only for admins" in page.text
        for path in STEPS:
            step = post(client, path, csrf, reason="r", name="n", email="a@b.example")
            assert step.status_code == 403, (other.role, path)
    # Nothing was done: every refused step left a 403 in the audit log, and no change.
    assert conn.execute("SELECT count(*) FROM fleets").fetchone()[0] == 1
    assert {r[1] for r in audit_rows(conn)} == {403}
    client.cookies.clear()
    for path in PAGES:
        assert client.get(path).headers["location"] == "/app/signin"
    csrf = as_user(client, admin.email)
    assert client.get("/app/").headers["location"] == "/app/admin"  # admins start there
    assert 'href="/app/admin"' in client.get("/app/settings").text  # the admin's nav link
    for path in PAGES[:-4]:
        assert client.get(path).status_code in (200, 404), path
    # A step without the session's form token is refused whatever the role.
    forged = client.post("/app/admin/fleets", data={"name": "Forged"})
    assert forged.status_code == 403 and "Only for admins" not in forged.text
    assert conn.execute("SELECT count(*) FROM fleets").fetchone()[0] == 1


def _apply(client: TestClient, **overrides: str):
    form = client.get("/app/shops/apply")
    assert form.status_code == 200
    data = {
        "csrf_token": csrf_of(form.text),
        "name": "Lake Street Garage",
        "address": "12 Lake St",
        "city": "Oak Park",
        "phone": "+1 555 0199",
        "lat": "41.885",
        "lon": "-87.784",
        "capabilities": ["oil_change", "brake_pads"],
        "contact_email": "sam@lakest.example",
        "password": PASSWORD,
    }
    return client.post("/app/shops/apply", data=data | overrides)


def test_a_shop_applies_and_the_admin_verifies_or_rejects_it(client, conn, admin):
    bad = _apply(client, lat="north", capabilities=[], password="short")
    assert bad.status_code == 422
    for words in ("A latitude is a number", "Pick at least one", "at least 8 characters"):
        assert words in bad.text
    assert conn.execute("SELECT count(*) FROM shops").fetchone()[0] == 0
    applied = _apply(client)
    assert applied.status_code == 200 and "Application received" in applied.text
    shop_id, verified_at = conn.execute("SELECT shop_id, verified_at FROM shops").fetchone()
    assert verified_at is None
    assert _apply(client, name="Again").status_code == 409  # the contact has an account now
    other = _apply(client, name="Rust Bucket", contact_email="rb@example.test").status_code
    assert other == 200
    rust_id = conn.execute("SELECT shop_id FROM shops WHERE name = 'Rust Bucket'").fetchone()[0]

    csrf = as_user(client, admin.email)
    waiting = client.get("/app/admin/shops").text
    assert "Lake Street Garage" in waiting and "sam@lakest.example" in waiting
    assert "+1 555 0199" in waiting and "Oil change" in waiting
    assert client.get("/app/admin").text.count('class="figure">2<') == 1  # two waiting
    done = post(client, f"/app/admin/shops/{shop_id}/verify", csrf)
    assert done.status_code == 303
    assert done.headers["location"] == "/app/admin/shops?done=verified"
    assert "Lake Street Garage" not in client.get("/app/admin/shops").text
    assert "Lake Street Garage" in client.get("/app/admin/shops?state=verified").text
    row = conn.execute("SELECT verified_by, verification FROM shops WHERE shop_id = %s", (shop_id,))
    assert row.fetchone() == (admin.user_id, "verified")
    # Rejecting: a reason is needed; a verified shop cannot be rejected.
    empty = post(client, f"/app/admin/shops/{rust_id}/reject", csrf, reason="  ")
    assert empty.status_code == 422 and "say why the shop is rejected" in empty.text
    late = post(client, f"/app/admin/shops/{shop_id}/reject", csrf, reason="too late")
    assert late.status_code == 409 and "verified already" in late.text
    missing = post(client, "/app/admin/shops/999999/verify", csrf)
    assert missing.status_code == 404 and "no such shop" in missing.text
    rejected = post(client, f"/app/admin/shops/{rust_id}/reject", csrf, reason="No <b>address</b>")
    assert rejected.headers["location"] == "/app/admin/shops?done=rejected&state=rejected"
    shown = client.get(rejected.headers["location"]).text
    assert "No &lt;b&gt;address&lt;/b&gt;" in shown and "The application is rejected." in shown
    state = conn.execute(
        "SELECT verification, rejected_by, rejection_reason, verified_at FROM shops "
        "WHERE shop_id = %s",
        (rust_id,),
    ).fetchone()
    assert state == ("rejected", admin.user_id, "No <b>address</b>", None)
    # The API's list of applications waiting no longer holds it.
    bearer = {"Authorization": f"Bearer {issue_access_token(AUTH, admin.user_id)}"}
    waiting_ids = client.get("/shops", params={"verified": "false"}, headers=bearer).json()
    assert [s["shop_id"] for s in waiting_ids["items"]] == []
    listed = client.get("/shops", headers=bearer).json()["items"]
    assert {s["shop_id"] for s in listed} == {shop_id, rust_id}
    # Who, when, what: one audit row per step, with its outcome.
    rows = audit_rows(conn)
    assert (admin.user_id, 303, "shop", str(shop_id)) == rows[0][:4]
    assert rows[0][4] == f"verified shop {shop_id} (Lake Street Garage); staff mailed"
    assert [r[1] for r in rows] == [303, 422, 409, 404, 303]
    assert rows[-1][4] == f"rejected shop {rust_id} (Rust Bucket): No <b>address</b>; staff mailed"


def test_fleets_are_made_and_given_managers(client, conn, admin):
    csrf = as_user(client, admin.email)
    assert post(client, "/app/admin/fleets", csrf, name=" ").status_code == 422
    made = post(client, "/app/admin/fleets", csrf, name="Becker Logistics")
    assert made.headers["location"] == "/app/admin/fleets?done=fleet_created"
    fleet_id = conn.execute("SELECT fleet_id FROM fleets WHERE name = 'Becker Logistics'")
    fleet_id = fleet_id.fetchone()[0]
    old = factories.fleet(conn, name="Old fleet")
    manager = person(conn, "fleet_manager", fleet_id=old.fleet_id)
    moved = post(client, f"/app/admin/fleets/{fleet_id}/manager", csrf, email=manager.email.upper())
    assert moved.headers["location"] == "/app/admin/fleets?done=manager_moved"
    row = conn.execute("SELECT fleet_id FROM users WHERE user_id = %s", (manager.user_id,))
    assert row.fetchone()[0] == fleet_id
    listed = client.get("/app/admin/fleets").text
    fleet_row = re.search(rf'<tr id="fleet-{fleet_id}">.*?</tr>', listed, re.S)
    assert fleet_row is not None and manager.email in fleet_row.group(0)
    # Someone new is invited: the one-time code is on the answer, only its hash stored.
    invited = post(client, f"/app/admin/fleets/{fleet_id}/manager", csrf, email="kim@becker.test")
    assert invited.status_code == 200
    token = re.search(r'<code class="admin-token">([^<]+)</code>', invited.text)
    assert token is not None
    stored = conn.execute("SELECT role, fleet_id, token_sha256 FROM invitations").fetchone()
    assert stored[:2] == ("fleet_manager", fleet_id) and token.group(1) not in stored[2]
    owner = person(conn, "owner")
    refused = post(client, f"/app/admin/fleets/{fleet_id}/manager", csrf, email=owner.email)
    assert refused.status_code == 409 and "not a fleet manager" in refused.text
    gone = post(client, "/app/admin/fleets/999999/manager", csrf, email="x@y.test")
    assert gone.status_code == 404 and "no such fleet" in gone.text
    for typo in ("kim at becker", " ", "a@b c"):
        bad = post(client, f"/app/admin/fleets/{fleet_id}/manager", csrf, email=typo)
        assert bad.status_code == 422 and "not an email address" in bad.text
    assert conn.execute("SELECT count(*) FROM invitations").fetchone()[0] == 1
    details = [r[4] for r in audit_rows(conn) if r[4]]
    assert details == [
        f"created fleet {fleet_id} (Becker Logistics)",
        f"made {manager.email.upper()} manager of fleet {fleet_id}",
        f"invited kim@becker.test to manage fleet {fleet_id} (mailed)",
    ]


def test_users_are_searched_disabled_everywhere_and_enabled_and_keys_revoked(client, conn, admin):
    target = person(conn, "owner", email="dana.target@example.test")
    person(conn, "owner", email="someone.else@example.test")
    key = create_key(conn=conn, user_id=target.user_id, name="laptop")
    token = issue_access_token(AUTH, target.user_id)
    as_user(client, target.email)
    their_cookies = dict(client.cookies)
    assert client.get("/app/cars").status_code == 200

    csrf = as_user(client, admin.email)
    found = client.get("/app/admin/users", params={"q": "TARGET"}).text
    assert "dana.target@example.test" in found and "someone.else" not in found
    admins = client.get("/app/admin/users", params={"role": "admin"}).text
    assert admin.email in admins and "dana.target" not in admins
    page = client.get(f"/app/admin/users/{target.user_id}").text
    assert f"wl_{key.prefix}_" in page and key.key not in page  # never the secret
    done = post(client, f"/app/admin/users/{target.user_id}/disable", csrf)
    assert done.headers["location"] == f"/app/admin/users/{target.user_id}?done=disabled"
    assert "dana.target" in client.get("/app/admin/users", params={"state": "disabled"}).text
    # Signed out everywhere, and the API refuses their token and key at once.
    sessions = "SELECT count(*) FROM web_sessions WHERE user_id = %s"
    assert conn.execute(sessions, (target.user_id,)).fetchone()[0] == 0
    assert client.get("/vehicles", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/vehicles", headers={"X-API-Key": key.key}).status_code == 401
    # An admin cannot lock themselves out.
    own = post(client, f"/app/admin/users/{admin.user_id}/disable", csrf)
    assert own.status_code == 409 and "your own account" in own.text
    enabled = post(client, f"/app/admin/users/{target.user_id}/enable", csrf)
    assert enabled.headers["location"] == f"/app/admin/users/{target.user_id}?done=enabled"
    assert client.get("/vehicles", headers={"X-API-Key": key.key}).status_code == 200
    revoked = post(client, f"/app/admin/keys/{key.key_id}/revoke", csrf)
    assert revoked.headers["location"] == f"/app/admin/users/{target.user_id}?done=revoked"
    assert client.get("/vehicles", headers={"X-API-Key": key.key}).status_code == 401
    assert post(client, "/app/admin/keys/999999/revoke", csrf).status_code == 404
    assert client.get("/app/admin/users/999999").status_code == 404
    # The old session stays ended after the user is enabled again: they sign in anew.
    client.cookies.clear()
    client.cookies.update(their_cookies)
    assert client.get("/app/cars").headers["location"] == "/app/signin"
    details = [r[4] for r in audit_rows(conn) if r[4]]
    assert details == [
        f"disabled user {target.user_id}; web sessions ended: 1",
        f"enabled user {target.user_id}",
        f"revoked key {key.prefix} of user {target.user_id}",
    ]


def test_the_audit_log_is_paged_and_filtered(client, conn, admin):
    helper = person(conn, "admin", email="helper@example.test")
    for n in range(55):
        conn.execute(
            "INSERT INTO audit_log (user_id, method, route, path, status, object_type, object_id) "
            "VALUES (%s, 'POST', '/vehicles', '/vehicles', %s, 'vehicle', %s)",
            (helper.user_id, 403 if n % 5 == 0 else 201, str(n)),
        )
    csrf = as_user(client, admin.email)
    post(client, "/app/admin/fleets", csrf, name="Audited <fleet>")
    first = client.get("/app/admin/audit").text
    ids = [int(i) for i in re.findall(r'<tr id="audit-(\d+)">', first)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    assert "created fleet" in first and "Audited &lt;fleet&gt;" in first
    after = re.search(r'href="([^"]+)" rel="next"', first)
    assert after is not None
    second = client.get(after.group(1).replace("&amp;", "&")).text
    rest = [int(i) for i in re.findall(r'<tr id="audit-(\d+)">', second)]
    total = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]  # with the sign-in
    assert len(rest) == total - 50 and max(rest) < min(ids) and 'rel="next"' not in second
    mine = client.get("/app/admin/audit", params={"who": admin.email}).text
    assert len(re.findall(r'<tr id="audit-', mine)) == 1
    refused = client.get("/app/admin/audit", params={"outcome": "refused"}).text
    assert len(re.findall(r'<tr id="audit-', refused)) == 11
    fleets = client.get("/app/admin/audit", params={"object_type": "fleet"}).text
    assert len(re.findall(r'<tr id="audit-', fleets)) == 1
    found = client.get("/app/admin/audit", params={"text": "audited"}).text
    assert len(re.findall(r'<tr id="audit-', found)) == 1


def test_dead_letters_show_reason_device_and_an_escaped_preview_paged(client, conn, admin):
    now = datetime.now(UTC)
    for n in range(52):
        conn.execute(
            "INSERT INTO dead_letters (received_at, topic, reason, payload, payload_size) "
            "VALUES (%s, %s, 'not a batch', %s, 3)",
            (now - timedelta(minutes=n), f"wl/v1/dev-{n % 2}/telemetry", b"abc"),
        )
    payload = b"<script>alert(1)</script>\x00\xff" + b"x" * 400
    conn.execute(
        "INSERT INTO dead_letters (received_at, topic, reason, payload, payload_size) "
        "VALUES (%s, 'wl/v1/evil/telemetry', 'bad <b>frame</b>', %s, %s)",
        (now, payload, len(payload)),
    )
    as_user(client, admin.email)
    page = client.get("/app/admin/dead-letters").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\x00\\xff" in page and "bad &lt;b&gt;frame&lt;/b&gt;" in page
    assert f"{len(payload)} bytes" in page and "…" in page
    assert len(re.findall(r'<tr id="dead-letter-', page)) == 50
    assert 'rel="next"' in page
    one = client.get("/app/admin/dead-letters", params={"device": "dev-1"}).text
    assert len(re.findall(r'<tr id="dead-letter-', one)) == 26


def test_devices_show_status_buffer_sequence_and_car_filtered_by_silence(client, conn, admin):
    now = datetime.now(UTC)
    owner = person(conn, "owner", email="olga@example.test")
    car = factories.vehicle(conn, owner_user_id=owner.user_id)
    fresh = factories.device(conn, car.vehicle_id, device_id="dongle-fresh")
    quiet = factories.device(conn, car.vehicle_id, device_id="dongle-quiet")
    factories.device(conn, car.vehicle_id, device_id="dongle-never")
    status = {"state": "online", "firmware": "wl-agent 1.4.2", "buffer_pending": 17}
    conn.execute(
        "UPDATE devices SET online = true, status = %s, status_at = %s WHERE device_id = %s",
        (Jsonb(status | {"buffer_dropped": 2}), now - timedelta(minutes=3), fresh.device_id),
    )
    conn.execute(
        "UPDATE devices SET online = false, status_at = %s WHERE device_id = %s",
        (now - timedelta(hours=30), quiet.device_id),
    )
    for seq in (7, 8, 9):
        conn.execute(
            "INSERT INTO batches (device_id, epoch, seq, vehicle_id, received_at, first_time, "
            "last_time, n_samples) VALUES (%s, 3, %s, %s, %s, %s, %s, 10)",
            (fresh.device_id, seq, car.vehicle_id, now - timedelta(minutes=10 - seq), now, now),
        )
    as_user(client, admin.email)
    page = client.get("/app/admin/devices").text
    row = re.search(r'<tr id="device-dongle-fresh">.*?</tr>', page, re.S)
    assert row is not None
    for words in ("wl-agent 1.4.2", "17 waiting", "2 dropped", "sequence 9 (epoch 3)", car.vin):
        assert words in row.group(0), words
    assert "olga@example.test" in row.group(0)
    silent = client.get("/app/admin/devices", params={"offline_hours": 24}).text
    shown = re.findall(r'<tr id="device-([^"]+)">', silent)
    assert shown == ["dongle-never", "dongle-quiet"]
    assert re.findall(
        r'<tr id="device-([^"]+)">',
        client.get("/app/admin/devices", params={"offline_hours": 48}).text,
    ) == ["dongle-never"]
    searched = client.get("/app/admin/devices", params={"q": "QUIET"}).text
    assert re.findall(r'<tr id="device-([^"]+)">', searched) == ["dongle-quiet"]


def test_disabling_in_the_console_ends_the_users_open_event_stream(db_url, conn, admin):
    app = web_app(db_url, None)
    running = ThreadServer(app)
    base = running.start()
    try:
        target = person(conn, "owner")
        key = create_key(conn=conn, user_id=target.user_id)
        with httpx2.Client(base_url=base, timeout=30) as console:
            form = console.get("/app/signin")
            signed = console.post(
                "/app/signin",
                data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            )
            assert signed.status_code == 303
            csrf = csrf_of(console.get("/app/settings").text)
            timeout = httpx2.Timeout(10, read=10)
            headers = {"X-API-Key": key.key}
            with httpx2.stream("GET", f"{base}/events", headers=headers, timeout=timeout) as r:
                assert r.status_code == 200
                deadline = time.monotonic() + 10
                while not app.state.event_hub.open_streams():
                    assert time.monotonic() < deadline, "the stream did not open"
                    time.sleep(0.02)
                done = console.post(
                    f"/app/admin/users/{target.user_id}/disable", data={"csrf_token": csrf}
                )
                assert done.status_code == 303
                disabled = time.monotonic()
                for _ in r.iter_lines():  # no events come; the stream must end by itself
                    pass
                took = time.monotonic() - disabled
        # The hub looks twice a second; the bound leaves a loaded machine room and stays under
        # the 10 s read timeout a stream that never ended would hit.
        assert took < 8.0, f"the stream outlived the disabling by {took:.1f} s"
    finally:
        running.stop()


def test_applying_spends_the_login_budget(db_url, conn):
    app = web_app(db_url, None, logins="2/minute")
    with TestClient(app, follow_redirects=False) as client:
        answers = [
            _apply(client, name=f"Shop {n}", contact_email=f"s{n}@example.test").status_code
            for n in range(3)
        ]
    assert answers == [200, 200, 429]
    assert conn.execute("SELECT count(*) FROM shops").fetchone()[0] == 2


def test_a_nul_in_a_field_or_a_search_is_said_in_words_not_a_crash(client, conn, admin):
    """The database keeps no NUL character: the console and the form refuse one in words."""
    assert _apply(client, name="Lake\x00Garage").status_code == 422
    assert conn.execute("SELECT count(*) FROM shops").fetchone()[0] == 0
    waiting = factories.shop(conn, verified_at=None)
    csrf = as_user(client, admin.email)
    reason = post(client, f"/app/admin/shops/{waiting.shop_id}/reject", csrf, reason="a\x00b")
    assert reason.status_code == 422
    assert post(client, "/app/admin/fleets", csrf, name="Fleet\x00").status_code == 422
    fleet = factories.fleet(conn)
    manager = post(client, f"/app/admin/fleets/{fleet.fleet_id}/manager", csrf, email="a\x00@b.c")
    assert manager.status_code == 422
    for path, field in (
        ("/app/admin/users", "q"),
        ("/app/admin/audit", "who"),
        ("/app/admin/audit", "text"),
        ("/app/admin/dead-letters", "device"),
        ("/app/admin/devices", "q"),
        ("/app/admin/devices", "after"),
    ):
        assert client.get(path, params={field: "x\x00y"}).status_code == 200, (path, field)
