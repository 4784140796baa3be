# SPDX-License-Identifier: MIT
"""``wrenchlight bench web``: how fast the owner's and the fleet manager's pages render and how
much a first visit downloads.

The data is ``bench api``'s fleet (``--vehicles`` vehicles with a prediction per model per day,
alerts, trouble codes and rollups), in a database of its own. An owner holds ``--cars`` of its
cars that have an oil alert, and one of them has a service order proposed to the owner by the
real placement code (shops seeded around the cars, ranked, estimated). The API runs as in
production (``wrenchlight api``, which mounts the web app at ``/app``); the owner signs in
through the sign-in form, as a browser does, and the pages are requested over HTTP by one
client (an owner is one person with one phone) for ``--seconds`` seconds each, after a warm-up.
A fleet manager of the first generated fleet (``bench api``'s fleets are 1,000 vehicles) signs
in the same way for the fleet's health table, its due list, its CSV, its map, one of its
vehicles, its approvals and its reports (issue 18's target: the health page p99 ≤ 300 ms for
1,000 vehicles; the other fleet pages are held to the same bound).

Three competitors per page, side by side in the same run:

- **ours**: the page, rendered from the database for the signed-in owner;
- **the API underneath**: the JSON call that carries most of what the page shows (the car's
  health for the car pages, the vehicle list for My cars, the order for the order page), for
  the same owner with an API key: what a client-side app would wait for before drawing;
- **the limit**: a static file of the page's size from the same server (no database, no
  template), the cost of HTTP and the server itself. The file is written for the run into the
  web app's static folder of this checkout, under a random name, and removed afterwards.

Page weight is what a first visit transfers: the page plus every stylesheet, script, image and
font it links, as the server sends them. Targets: p99 ≤ 200 ms, first load ≤ 150 kB.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urljoin

import typer

from benchmarks.api import _generate, load, served
from benchmarks.host import host_of
from db.rows import scalar, scalars

Request = tuple[str, dict[str, str]]
TARGETS = {"p99_ms": 200.0, "first_load_kb": 150.0, "fleet_p99_ms": 300.0}
OWNER_EMAIL = "owner@bench.wrenchlight.invalid"
MANAGER_EMAIL = "manager@bench.wrenchlight.invalid"
# The fleet manager's pages, measured against their own target.
FLEET_PAGES = (
    "fleet",
    "fleet_due",
    "fleet_csv",
    "fleet_map",
    "fleet_vehicle",
    "fleet_approvals",
    "fleet_reports",
)
# What the owner's pages link to, fetched once each for the page weight.
ASSET_RE = re.compile(r'(?:<link[^>]+href|<script[^>]+src|<img[^>]+src)="([^"]+)"')
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _owner_world(conn: Any, cars: int) -> dict[str, Any]:
    """An owner holding ``cars`` cars with an oil alert, and an order proposed on the first."""
    from api.auth.accounts import create_account
    from orders.placement import propose
    from orders.policy import PlacementPolicy
    from orders.service import create_order_for_alert
    from orders.shops import seed_shops

    password = secrets.token_urlsafe(12)
    account = create_account(conn=conn, email=OWNER_EMAIL, role="owner", password=password)
    vehicle_ids = scalars(
        conn,
        "SELECT DISTINCT vehicle_id FROM alerts WHERE kind = 'oil_change' "
        "ORDER BY vehicle_id LIMIT %s",
        (cars,),
    )
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s, fleet_id = NULL WHERE vehicle_id = ANY(%s)",
        (account.user_id, vehicle_ids),
    )
    seed_shops(conn=conn, center_lat=41.88, center_lon=-87.63, count=12, seed=0)
    alert_id = scalar(
        conn,
        "SELECT min(alert_id) FROM alerts WHERE vehicle_id = %s AND kind = 'oil_change'",
        (vehicle_ids[0],),
    )
    now = datetime.now(UTC)
    order_id = None
    with conn.transaction():
        order_id = create_order_for_alert(conn=conn, alert_id=alert_id, now=now)
        if order_id is not None:
            propose(conn=conn, order_id=order_id, now=now, policy=PlacementPolicy())
    return {
        "email": OWNER_EMAIL,
        "password": password,
        "api_key": account.api_key,
        "vehicle_ids": list(vehicle_ids),
        "order_id": order_id,
    }


def _manager_world(conn: Any) -> dict[str, Any]:
    """A fleet manager of the largest generated fleet."""
    from api.auth.accounts import create_account

    fleet_id = scalar(
        conn,
        "SELECT fleet_id FROM vehicles WHERE fleet_id IS NOT NULL GROUP BY fleet_id "
        "ORDER BY count(*) DESC, fleet_id LIMIT 1",
    )
    password = secrets.token_urlsafe(12)
    account = create_account(
        conn=conn,
        email=MANAGER_EMAIL,
        role="fleet_manager",
        password=password,
        fleet_id=int(fleet_id),
    )
    return {
        "email": MANAGER_EMAIL,
        "password": password,
        "api_key": account.api_key,
        "fleet_id": int(fleet_id),
        "vehicle_id": int(
            scalar(conn, "SELECT min(vehicle_id) FROM vehicles WHERE fleet_id = %s", (fleet_id,))
        ),
    }


def _sign_in(base: str, email: str, password: str) -> str:
    """The session cookie of the owner, signed in through the form as a browser would."""
    import httpx2

    with httpx2.Client(base_url=base, timeout=30, follow_redirects=False) as http:
        page = http.get("/app/signin")
        token = CSRF_RE.search(page.text)
        if page.status_code != 200 or token is None:
            raise RuntimeError(f"no sign-in form at /app/signin ({page.status_code})")
        answer = http.post(
            "/app/signin",
            data={"email": email, "password": password, "csrf_token": token.group(1)},
        )
        cookie = answer.cookies.get("wl_session")
        if answer.status_code != 303 or not cookie:
            raise RuntimeError(f"signing in failed: {answer.status_code} {answer.text[:200]}")
        return f"wl_session={cookie}"


def _weight(base: str, path: str, cookie: str) -> dict[str, Any]:
    """Bytes a first visit to ``path`` transfers: the page and each asset it links, as sent."""
    import httpx2

    sizes: dict[str, int] = {}
    # The client decodes compressed bodies; the raw stream is what travelled.
    with httpx2.Client(base_url=base, timeout=30, headers={"accept-encoding": "gzip, br"}) as http:
        with http.stream("GET", path, headers={"cookie": cookie}) as response:
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code}")
            sizes[path] = sum(len(chunk) for chunk in response.iter_raw())
        html = http.get(path, headers={"cookie": cookie}).text
        for ref in sorted(set(ASSET_RE.findall(html))):
            if ref.startswith(("data:", "#", "http:", "https:", "//")):
                continue  # inline, or elsewhere (the pages link nothing elsewhere)
            with http.stream("GET", urljoin(f"{base}{path}", ref)) as response:
                sizes[ref] = sum(len(chunk) for chunk in response.iter_raw())
    return {
        "bytes": sum(sizes.values()),
        "kb": round(sum(sizes.values()) / 1000, 1),
        "parts": sizes,
    }


def bench_web(
    ctx: typer.Context,
    vehicles: Annotated[int, typer.Option(min=10, help="Vehicles in the database.")] = 10_000,
    days: Annotated[int, typer.Option(min=1, max=400, help="Days of history.")] = 30,
    cars: Annotated[int, typer.Option(min=1, max=20, help="Cars the owner holds.")] = 3,
    seconds: Annotated[float, typer.Option(min=0.5, help="Seconds per page.")] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """Owner pages: p50/p99 render over HTTP beside the JSON call underneath and a static file
    of the same size; bytes of a first visit."""
    import logging

    import db

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per request otherwise
    host = host_of(ctx)
    report: dict[str, Any] = {"machine_load_1m": round(os.getloadavg()[0], 2)}
    with ExitStack() as stack:
        url = host.database(stack)
        typer.echo(f"generating {vehicles:,} vehicles × {days} days …", err=True)
        with db.connect(url, autocommit=True) as conn:
            report["data"] = _generate(
                conn, vehicles=vehicles, fleet_size=1000, days=days, drive_minutes=60
            )
            world = _owner_world(conn, cars)
            boss = _manager_world(conn)
        port = host.free_port()
        _, base = served(stack, url, 1, port)
        owner = (
            _sign_in(base, world["email"], world["password"]),
            {"authorization": f"Bearer {world['api_key']}"},
        )
        manager = (
            _sign_in(base, boss["email"], boss["password"]),
            {"authorization": f"Bearer {boss['api_key']}"},
        )
        first_car = world["vehicle_ids"][0]
        order = world["order_id"]
        health = f"/fleets/{boss['fleet_id']}/health?limit=1000"
        pages: dict[str, tuple[str, str, tuple[str, dict[str, str]]]] = {
            "my_cars": ("/app/cars", "/vehicles", owner),
            "car": (f"/app/cars/{first_car}", f"/vehicles/{first_car}/health", owner),
            "orders": ("/app/orders", "/service-orders", owner),
        }
        if order is not None:
            pages["order"] = (f"/app/orders/{order}", f"/service-orders/{order}", owner)
        pages["settings"] = ("/app/settings", "/auth/me", owner)
        pages["fleet"] = ("/app/fleet", health, manager)
        pages["fleet_due"] = ("/app/fleet/due", health, manager)
        pages["fleet_csv"] = (
            "/app/fleet/health.csv",
            f"/fleets/{boss['fleet_id']}/health.csv",
            manager,
        )
        pages["fleet_map"] = ("/app/fleet/map", health, manager)
        fleet_car = boss["vehicle_id"]
        pages["fleet_vehicle"] = (
            f"/app/fleet/vehicles/{fleet_car}",
            f"/vehicles/{fleet_car}/health",
            manager,
        )
        approvals = f"/fleets/{boss['fleet_id']}/approvals"
        pages["fleet_approvals"] = ("/app/fleet/approvals", approvals, manager)
        pages["fleet_reports"] = ("/app/fleet/reports", health, manager)
        report["pages"] = {}
        for name, (page, api_path, (cookie, key)) in pages.items():
            typer.echo(f"{name}: {page} …", err=True)
            weight = _weight(base, page, cookie)
            ours = load(base, _always(page, {"cookie": cookie}), 1, seconds)
            api = load(base, _always(api_path, key), 1, seconds)
            # The limit: the same number of bytes as a static file of the API's own server.
            limit = _static_limit(base, name, weight["parts"][page], seconds)
            report["pages"][name] = {
                "path": page,
                "ours": ours,
                "api_underneath": {"path": api_path, **api},
                "static_same_size": limit,
                "first_load": weight,
                "ours_over_api_p99": round(ours["p99_ms"] / max(api["p99_ms"], 1e-3), 2),
                "ours_over_static_p99": round(ours["p99_ms"] / max(limit["p99_ms"], 1e-3), 2),
            }
    owners = [p for n, p in report["pages"].items() if n not in FLEET_PAGES]
    worst_p99 = max(p["ours"]["p99_ms"] for p in owners)
    heaviest = max(p["first_load"]["kb"] for p in report["pages"].values())
    fleet_p99 = max(report["pages"][n]["ours"]["p99_ms"] for n in FLEET_PAGES)
    report.update(
        vehicles=vehicles,
        days=days,
        cars=cars,
        seconds=seconds,
        worst_p99_ms=worst_p99,
        fleet_worst_p99_ms=fleet_p99,
        heaviest_first_load_kb=heaviest,
        targets=TARGETS,
        targets_met={
            "p99_ms": worst_p99 <= TARGETS["p99_ms"],
            "first_load_kb": heaviest <= TARGETS["first_load_kb"],
            "fleet_p99_ms": fleet_p99 <= TARGETS["fleet_p99_ms"],
        },
    )
    _print(report)
    if as_json:
        typer.echo(json.dumps(report))


def _always(path: str, headers: dict[str, str]) -> Callable[[random.Random], Request]:
    """``load``'s request chooser for one path, always the same."""

    def choose(_rng: random.Random) -> Request:
        return path, headers

    return choose


def _static_limit(base: str, name: str, size: int, seconds: float) -> dict[str, Any]:
    """p50/p99 of a static file of ``size`` bytes served by the web app's own static route.

    The file goes where the app serves its assets from, under a name of this run's own, and is
    removed afterwards."""
    import web

    static = Path(web.__file__).parent / "static"
    filename = f"bench-{name}-{secrets.token_hex(4)}.html"
    target = static / filename
    target.write_bytes(b"x" * max(size, 1))
    try:
        return load(base, _always(f"/app/static/{filename}", {}), 1, seconds)
    finally:
        target.unlink(missing_ok=True)


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="owner and fleet pages: 1 client, over HTTP")
    for column in (
        "page",
        "ours p50/p99 ms",
        "API underneath p99",
        "static same size p99",
        "first load kB",
    ):
        table.add_column(column, justify="right" if column != "page" else "left")
    for name, p in report["pages"].items():
        table.add_row(
            f"{name} {p['path']}",
            f"{p['ours']['p50_ms']} / {p['ours']['p99_ms']}",
            f"{p['api_underneath']['p99_ms']}",
            f"{p['static_same_size']['p99_ms']}",
            f"{p['first_load']['kb']}",
        )
    Console(stderr=True).print(table)
    met = report["targets_met"]
    typer.echo(
        f"worst p99 {report['worst_p99_ms']} ms (target ≤ {TARGETS['p99_ms']:.0f}: "
        f"{'met' if met['p99_ms'] else 'MISSED'}); heaviest first load "
        f"{report['heaviest_first_load_kb']} kB (target ≤ {TARGETS['first_load_kb']:.0f}: "
        f"{'met' if met['first_load_kb'] else 'MISSED'}); fleet pages' worst p99 "
        f"{report['fleet_worst_p99_ms']} ms (target ≤ {TARGETS['fleet_p99_ms']:.0f}: "
        f"{'met' if met['fleet_p99_ms'] else 'MISSED'}); load {report['machine_load_1m']}",
        err=True,
    )
