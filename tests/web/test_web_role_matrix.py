# SPDX-License-Identifier: MIT
"""Every page and every form of the web app, as every role meets it.

The routes come from the app itself (its OpenAPI document, which lists every route though it
is not served): a route without an entry in ``CASES`` fails the test, and so does an entry for
a route the app no longer has. Each entry names, for each of eight people (signed out, the
order's owner, another owner, the order's shop's staff, another shop's staff, the manager of
the car's fleet, another fleet's manager, an admin), what they get: the page (200), the sign-in
page (303 to ``/signin``), another page by redirect, the plain 403 page, the 404 page, or a
plain-words answer with its status.

Forms (POST) are sent only by those who are refused, or whose answer changes nothing (a wrong
token, an empty application): every data table but the audit log is compared before and
after, so a refused form that wrote anything fails. What the allowed roles' forms do is each
area's own tests' business. Live streams are opened only by those refused (an allowed one
stays open; ``test_notify_approvals.py`` and the inbox tests read them).

Every answer but the public report check is searched for the identifying words (VINs,
account emails, fleet names) of the people the role has nothing to do with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matrix_helpers import ROLES, Session, World, build_world, fingerprint, watched_tables
from report_images import png

OK, GO, SIGNIN = "200", "go", "signin"
FORBIDDEN, MISSING, GONE = "403", "404", "410"
STREAM = "stream"  # an allowed live stream: not opened here
ALLOWED = "allowed"  # an allowed form: not sent here


def roles(default: str, *, anon: str = SIGNIN, **given: str) -> dict[str, str]:
    """What each role gets: ``default``, signed out ``anon``, and the roles ``given``."""
    unknown = set(given) - set(ROLES)
    assert not unknown, unknown
    return {role: default for role in ROLES} | {"anon": anon} | given


@dataclass(frozen=True)
class Case:
    """One request: the route as the app declares it, the path with the world's ids in
    braces, what each role gets, and the form it sends."""

    method: str
    route: str
    path: str
    expect: dict[str, str]
    form: dict[str, Any] = field(default_factory=dict)
    upload: bool = False
    public: bool = False  # shows a report's words to anyone by design (its public check)


def get(route: str, expect: dict[str, str], path: str | None = None, **kw: Any) -> Case:
    return Case("GET", route, path or route, expect, **kw)


def post(route: str, expect: dict[str, str], path: str | None = None, **kw: Any) -> Case:
    return Case("POST", route, path or route, expect, **kw)


SIGNED_IN = roles(OK)
EVERYONE = roles(OK, anon=OK)
ADMIN = roles(FORBIDDEN, admin=OK)
SHOPS = roles(FORBIDDEN, staff=OK, other_staff=OK)
THE_SHOP = roles(FORBIDDEN, staff=OK, other_staff=MISSING)
THE_SHOP_STEP = roles(FORBIDDEN, staff=ALLOWED, other_staff=MISSING)
FLEETS = roles(FORBIDDEN, manager=OK, other_manager=OK, admin=OK)
THE_FLEET = roles(FORBIDDEN, manager=OK, other_manager=MISSING, admin=OK)
THE_FLEET_STEP = roles(FORBIDDEN, manager=ALLOWED, other_manager=MISSING, admin=ALLOWED)
OWNERS_ORDER = roles(MISSING, owner=OK, staff=OK, admin=OK)
FLEETS_ORDER = roles(MISSING, manager=OK, staff=OK, admin=OK)
EVIDENCE = roles(MISSING, owner=OK, staff=OK, admin=OK)
# The car's side decides on the booking: the shop's staff see the order but may not.
OWNER_STEP = roles(MISSING, owner=ALLOWED, admin=ALLOWED, staff=FORBIDDEN)
FLEET_PAGES = (
    "/fleet",
    "/fleet/due",
    "/fleet/health.csv",
    "/fleet/map",
    "/fleet/policy",
    "/fleet/approvals",
    "/fleet/reports",
    "/fleet/reports.csv",
)
ADMIN_PAGES = (
    "/admin",
    "/admin/shops",
    "/admin/fleets",
    "/admin/users",
    "/admin/audit",
    "/admin/dead-letters",
    "/admin/devices",
)
NO_TOKEN = "no-such-token-0123456789"

CASES: tuple[Case, ...] = (
    # Signing in and out, preferences.
    get("/signin", roles(GO, anon=OK)),
    post(
        "/signin", roles("401", anon="401"), form={"email": "nobody@example.test", "password": "x"}
    ),
    get("/signin/link", EVERYONE),
    post("/signin/link", EVERYONE, form={"email": "nobody@example.test"}),
    post("/signin/link/use", roles(GONE, anon=GONE), form={"token": NO_TOKEN}),
    post("/signout", roles(ALLOWED)),
    post("/signout/everywhere", roles(ALLOWED)),
    post("/preferences", roles(ALLOWED, anon=ALLOWED)),
    get("/", roles(GO)),
    # Cars.
    get("/cars", SIGNED_IN),
    get("/cars/add", roles(FORBIDDEN, owner=OK, other_owner=OK)),
    post(
        "/cars/add",
        roles(FORBIDDEN, owner=ALLOWED, other_owner=ALLOWED),
        form={"car": "WLMATRIX000000001", "code": "ABCD-EFGH"},
    ),
    get("/cars/{vehicle_id}", roles(MISSING, owner=OK, staff=OK, admin=OK), "/cars/{booked_car}"),
    get("/cars/{vehicle_id}", roles(MISSING, manager=OK, staff=OK, admin=OK), "/cars/{fleet_car}"),
    # Orders.
    get("/orders", SIGNED_IN),
    get("/orders/{order_id}", OWNERS_ORDER, "/orders/{booked}"),
    get("/orders/{order_id}", FLEETS_ORDER, "/orders/{fleet_order}"),
    get(
        "/orders/{order_id}/events",
        roles(MISSING, owner=STREAM, staff=STREAM, admin=STREAM),
        "/orders/{booked}/events",
    ),
    post("/orders/{order_id}/confirm", OWNER_STEP, "/orders/{booked}/confirm"),
    post(
        "/orders/{order_id}/book",
        roles(MISSING, owner=ALLOWED, staff=ALLOWED, admin=ALLOWED),
        "/orders/{booked}/book",
        form={"slot_id": "{slot}"},
    ),
    post(
        "/orders/{order_id}/decline", OWNER_STEP, "/orders/{booked}/decline", form={"reason": "x"}
    ),
    post("/orders/{order_id}/survey", OWNER_STEP, "/orders/{done}/survey", form={"score": "9"}),
    # A report's evidence and its public check.
    get("/orders/{order_id}/files/{file_id}", EVIDENCE, "/orders/{done}/files/{photo}"),
    get("/orders/{order_id}/report.pdf", EVIDENCE, "/orders/{done}/report.pdf"),
    get("/verify/{code}", EVERYONE, public=True),
    get("/verify/{code}/report.pdf", EVERYONE, public=True),
    # The shop's inbox, job card, calendar, profile and KPIs.
    get("/shop", SHOPS),
    get("/shop/events", roles(FORBIDDEN, staff=STREAM, other_staff=STREAM)),
    post(
        "/shop/orders/{order_id}/offers/{offer_id}/accept",
        THE_SHOP_STEP,
        "/shop/orders/{offered}/offers/{offer}/accept",
    ),
    post(
        "/shop/orders/{order_id}/offers/{offer_id}/decline",
        THE_SHOP_STEP,
        "/shop/orders/{offered}/offers/{offer}/decline",
        form={"reason": "no bay free"},
    ),
    post(
        "/shop/orders/{order_id}/slot",
        THE_SHOP_STEP,
        "/shop/orders/{booked}/slot",
        form={"slot_id": "{slot}"},
    ),
    get("/shop/jobs/{order_id}", THE_SHOP, "/shop/jobs/{booked}"),
    get("/shop/jobs/{order_id}", THE_SHOP, "/shop/jobs/{fleet_order}"),
    post("/shop/jobs/{order_id}/{step}", THE_SHOP_STEP, "/shop/jobs/{booked}/check-in"),
    post(
        "/shop/jobs/{order_id}/complete",
        THE_SHOP_STEP,
        "/shop/jobs/{booked}/complete",
        form={"work_done": "nothing", "technician": "Nobody"},
    ),
    post("/shop/jobs/{order_id}/photos", THE_SHOP_STEP, "/shop/jobs/{booked}/photos", upload=True),
    post(
        "/shop/jobs/{order_id}/photos/{file_id}/delete",
        THE_SHOP_STEP,
        "/shop/jobs/{done}/photos/{photo}/delete",
    ),
    get("/shop/calendar", SHOPS),
    get("/shop/calendar/orders/{order_id}/move", THE_SHOP, "/shop/calendar/orders/{booked}/move"),
    post(
        "/shop/calendar/orders/{order_id}/move",
        THE_SHOP_STEP,
        "/shop/calendar/orders/{booked}/move",
        form={"slot_id": "{slot}"},
    ),
    get("/shop/profile", SHOPS),
    post("/shop/profile", roles(FORBIDDEN, staff=ALLOWED, other_staff=ALLOWED)),
    # A colleague's role: the caller's own shop's staff (another shop's person is a 404).
    post(
        "/shop/profile/staff/{user_id}",
        roles(FORBIDDEN, staff=ALLOWED, other_staff=MISSING),
        "/shop/profile/staff/{staff_user}",
        form={"shop_role": "manager"},
    ),
    get("/shop/kpis", roles(FORBIDDEN, staff=OK, other_staff=OK, admin=OK)),
    get("/shop/kpis", THE_SHOP | {"admin": OK}, "/shop/kpis?shop_id={shop_a}"),
    get("/shops/apply", EVERYONE),
    # A shop that applied: asking again after a rejection (its own staff only).
    post("/shop/application/again", roles(FORBIDDEN, staff=ALLOWED, other_staff=ALLOWED)),
    # Accepting an invitation: the page for anyone; an unknown code is a plain 404.
    get("/invitations/accept", EVERYONE),
    post(
        "/invitations/accept",
        roles(MISSING, anon=MISSING),
        form={
            "token": NO_TOKEN,
            "name": "X",
            "password": "a long password",
            "again": "a long password",
        },
    ),
    post("/shops/apply", roles("422", anon="422"), form={"name": ""}),
    # The fleet's dashboard: each page for the signed-in role's own fleet, then for the car's.
    *(get(page, FLEETS) for page in FLEET_PAGES),
    *(get(page, THE_FLEET, page + "?fleet_id={fleet}") for page in FLEET_PAGES),
    get("/fleet/vehicles/{vehicle_id}", THE_FLEET, "/fleet/vehicles/{fleet_car}?fleet_id={fleet}"),
    get(
        "/fleet/vehicles/{vehicle_id}",
        roles(FORBIDDEN, manager=OK, other_manager=MISSING, admin=OK),
        "/fleet/vehicles/{fleet_car}",
    ),
    # An owner's car is no fleet's vehicle (an admin who named no fleet picks one first).
    get(
        "/fleet/vehicles/{vehicle_id}",
        roles(FORBIDDEN, manager=MISSING, other_manager=MISSING, admin=OK),
        "/fleet/vehicles/{booked_car}",
    ),
    post(
        "/fleet/policy",
        THE_FLEET_STEP,
        "/fleet/policy?fleet_id={fleet}",
        form={"limit": "1000", "currency": "EUR"},
    ),
    post(
        "/fleet/approvals/{order_id}/{decision}",
        THE_FLEET_STEP,
        "/fleet/approvals/{fleet_order}/approve?fleet_id={fleet}",
    ),
    # Without ?fleet_id=: another manager's own fleet has no such order; an admin picks a fleet.
    post(
        "/fleet/approvals/{order_id}/{decision}",
        THE_FLEET_STEP | {"admin": OK},
        "/fleet/approvals/{fleet_order}/reject",
        form={"note": "not needed"},
    ),
    post(
        "/fleet/reports/recipients",
        THE_FLEET_STEP,
        "/fleet/reports/recipients?fleet_id={fleet}",
        form={"recipients": "boss@example.test"},
    ),
    # The admin's console.
    *(get(page, ADMIN) for page in ADMIN_PAGES),
    get("/admin/users/{user_id}", ADMIN, "/admin/users/{owner_id}"),
    post(
        "/admin/shops/{shop_id}/verify",
        roles(FORBIDDEN, admin=ALLOWED),
        "/admin/shops/{shop_b}/verify",
    ),
    post(
        "/admin/shops/{shop_id}/reject",
        roles(FORBIDDEN, admin=ALLOWED),
        "/admin/shops/{shop_b}/reject",
        form={"reason": "not a shop"},
    ),
    post("/admin/fleets", roles(FORBIDDEN, admin=ALLOWED), form={"name": "Stolen Fleet"}),
    post(
        "/admin/shops/{shop_id}/staff",
        roles(FORBIDDEN, admin=ALLOWED),
        "/admin/shops/{shop_a}/staff",
        form={"email": "intruder@example.test"},
    ),
    post(
        "/admin/fleets/{fleet_id}/manager",
        roles(FORBIDDEN, admin=ALLOWED),
        "/admin/fleets/{fleet}/manager",
        form={"email": "intruder@example.test"},
    ),
    post(
        "/admin/users/{user_id}/disable",
        roles(FORBIDDEN, admin=ALLOWED),
        "/admin/users/{owner_id}/disable",
    ),
    post(
        "/admin/users/{user_id}/enable",
        roles(FORBIDDEN, admin=ALLOWED),
        "/admin/users/{owner_id}/enable",
    ),
    post(
        "/admin/keys/{key_id}/revoke", roles(FORBIDDEN, admin=ALLOWED), "/admin/keys/{key}/revoke"
    ),
    # Notifications: each user's own settings; another's channel is not there.
    get("/settings", SIGNED_IN),
    post("/settings/channels", roles(ALLOWED), form={"url": "ntfy://ntfy.example.com/x"}),
    post(
        "/settings/channels/{channel_id}/remove",
        roles(MISSING, owner=ALLOWED),
        "/settings/channels/{channel}/remove",
    ),
    post(
        "/settings/channels/{channel_id}/test",
        roles(MISSING, owner=ALLOWED),
        "/settings/channels/{channel}/test",
    ),
    post("/settings/routes", roles(ALLOWED)),
    post("/settings/quiet", roles(ALLOWED)),
    get("/n/{token}", EVERYONE, f"/n/{NO_TOKEN}"),
    post("/n/{token}", roles(GONE, anon=GONE), f"/n/{NO_TOKEN}"),
    get("/unsubscribe/{token}", roles(GONE, anon=GONE), f"/unsubscribe/{NO_TOKEN}"),
    post("/unsubscribe/{token}", roles(GONE, anon=GONE), f"/unsubscribe/{NO_TOKEN}"),
    # The demo's mailbox exists only in the demo.
    get("/demo/mail", roles(MISSING)),
    get("/demo/mail/{mail_id}", roles(MISSING), "/demo/mail/1"),
)


def declared_routes(client) -> set[tuple[str, str]]:
    """Every (method, route) of the web app, from its OpenAPI document."""
    paths = client.app.state.web.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def outcome(response) -> str:
    """What a person got: a status, or where a redirect went (the sign-in page or other)."""
    if response.status_code == 303:
        return SIGNIN if response.headers["location"] == "/app/signin" else GO
    return str(response.status_code)


def ask(client, session: Session, case: Case, path: str, ids: dict[str, Any]):
    """The case's request as the session's browser sends it (its cookie, its form token)."""
    client.cookies.clear()  # each request carries its own browser's cookie alone
    headers = {"Cookie": session.cookie()}
    if case.method == "GET":
        return client.get(path, headers=headers)
    form = {k: str(v).format(**ids) for k, v in case.form.items()}
    files = [("photos", ("after.png", png(), "image/png"))] if case.upload else None
    return client.post(
        path, data={"csrf_token": session.csrf, **form}, files=files, headers=headers
    )


def test_the_matrix_covers_every_route_of_the_app(client):
    declared = declared_routes(client)
    listed = {(c.method, c.route) for c in CASES}
    assert not declared - listed, f"routes with no entry in CASES: {sorted(declared - listed)}"
    assert not listed - declared, f"entries for routes the app lacks: {sorted(listed - declared)}"


def _leaks(world: World, role: str, response) -> list[str]:
    if not response.headers.get("content-type", "").startswith("text/"):
        return []
    return sorted(word for word in world.not_for(role) if word in response.text)


def test_every_role_gets_what_it_may_and_a_refused_form_changes_nothing(client, conn):
    world = build_world(client, conn)
    tables = watched_tables(conn)
    wrong: list[str] = []
    asked = 0
    for case in CASES:
        path = "/app" + case.path.format(**world.ids)
        for role in ROLES:
            want = case.expect[role]
            if want in (STREAM, ALLOWED):
                continue
            before = fingerprint(conn, tables) if case.method == "POST" else None
            response = ask(client, world.sessions[role], case, path, world.ids)
            asked += 1
            where = f"{case.method} {path} as {role}"
            got = outcome(response)
            if got != want:
                wrong.append(f"{where}: got {got}, expected {want}")
            if before is not None:
                after = fingerprint(conn, tables)
                changed = sorted(t for t in tables if before[t] != after[t])
                if changed:
                    wrong.append(f"{where}: changed {changed}")
            if not case.public and (leaked := _leaks(world, role, response)):
                wrong.append(f"{where}: shows {leaked}")
    assert not wrong, f"{len(wrong)} of {asked} answers wrong:\n" + "\n".join(wrong)
    # The refusals were real: each role met some (the matrix is not all "allowed").
    assert asked > 400
