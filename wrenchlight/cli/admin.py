# SPDX-License-Identifier: MIT
"""``wrenchlight admin``: bootstrap users and API keys, fleets and shops, invitations and
pairing codes; hand the broker its password file; remove the web app's finished sessions.

These talk to the database directly through the API's own service functions (the same checks
and errors as the routes), so the first admin can be made before anyone can call the API
(assembled into the root command by ``wrenchlight.cli``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from wrenchlight.cli.broker import broker_config_cmd
from wrenchlight.cli.common import err, require_db, settings_of

app = typer.Typer(help="Users, API keys and device credentials.", no_args_is_help=True)


def _emit(as_json: bool, doc: dict[str, object], text: str) -> None:
    typer.echo(json.dumps(doc, default=str) if as_json else text)


def _refuse(what: str, why: object) -> typer.Exit:
    """One line saying what could not be done and why (the why says what to do)."""
    err.print(f"[red]cannot {what}:[/] {why}", soft_wrap=True)
    return typer.Exit(2)


@app.command("create-user")
def create_user_cmd(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="The user's email, their login name.")],
    role: Annotated[str, typer.Option(help="owner, shop_staff, fleet_manager or admin.")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="WRENCHLIGHT_NEW_PASSWORD",
            help="Password for the /auth/token flow (better from the environment than the "
            "command line); omit for a user who calls with API keys only.",
        ),
    ] = None,
    fleet_id: Annotated[int | None, typer.Option(help="A fleet manager's fleet.")] = None,
    shop_id: Annotated[int | None, typer.Option(help="Shop staff's shop.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a user."""
    import db
    from api.auth.users import UserError, create_user

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        try:
            user_id = create_user(
                conn=conn,
                email=email,
                role=role,  # type: ignore[arg-type]  # create_user checks it
                password=password,
                fleet_id=fleet_id,
                shop_id=shop_id,
            )
        except UserError as exc:
            raise _refuse("create the user", exc) from exc
    doc = {"user_id": user_id, "email": email, "role": role, "fleet_id": fleet_id}
    doc["shop_id"] = shop_id
    _emit(as_json, doc, f"user {user_id} ({email}, {role})")


@app.command("create-key")
def create_key_cmd(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Whose key it is.")],
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API key for a user; the key is printed this once and cannot be shown again."""
    import db
    from api.auth.keys import create_key
    from db.rows import scalar

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        user_id = scalar(conn, "SELECT user_id FROM users WHERE lower(email) = lower(%s)", (email,))
        if user_id is None:
            err.print(f"[red]no user with email {email}[/]")
            raise typer.Exit(2)
        new = create_key(conn=conn, user_id=user_id, name=name)
    doc = {"key_id": new.key_id, "user_id": user_id, "prefix": new.prefix, "key": new.key}
    _emit(as_json, doc, new.key)


@app.command("mqtt-passwd")
def mqtt_passwd_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Mosquitto password_file to write.")],
) -> None:
    """Write every active device credential as a Mosquitto password file (mode 0600).

    Usernames are device ids (reserved service names left out); for the access list and the
    service users see ``admin broker-config --mode file``. Reload Mosquitto (SIGHUP) after.
    """
    import db
    from api.devices.credentials import password_file

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        text = password_file(conn=conn)
    fd = os.open(out.with_suffix(out.suffix + ".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(out.with_suffix(out.suffix + ".tmp"), out)
    typer.echo(f"{len(text.splitlines())} device credentials written to {out}")


@app.command("create-fleet")
def create_fleet_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The fleet's name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a fleet; then invite its manager with `admin invite --role fleet_manager`."""
    import db
    from api.fleets.members import create_fleet

    if not name.strip():
        raise _refuse("create the fleet", "give it a name")
    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        fleet = create_fleet(conn=conn, name=name.strip())
    _emit(as_json, fleet.model_dump(mode="json"), f"fleet {fleet.fleet_id} ({fleet.name})")


@app.command("create-shop")
def create_shop_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The shop's name.")],
    lat: Annotated[float, typer.Option(help="Latitude, degrees.")],
    lon: Annotated[float, typer.Option(help="Longitude, degrees.")],
    capabilities: Annotated[
        str, typer.Option(help="What it does, ';'-separated: oil_change;brake_pads;...")
    ],
    city: Annotated[str | None, typer.Option(help="City.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166 code, e.g. DE.")] = None,
    timezone: Annotated[str, typer.Option(help="IANA zone of its opening hours.")] = "UTC",
    currency: Annotated[str, typer.Option(help="ISO 4217 code of its prices.")] = "EUR",
    address: Annotated[str | None, typer.Option(help="Street address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a verified shop; then invite its staff with `admin invite --role shop_staff`."""
    from pydantic import ValidationError

    import db
    from api.orders.actions import now
    from api.shops.onboarding import create_shop
    from api.shops.schemas import ShopCreate

    fields = {"name": name, "lat": lat, "lon": lon, "city": city, "country": country}
    fields |= {"timezone": timezone, "currency": currency, "address": address, "phone": phone}
    fields["capabilities"] = [c.strip() for c in capabilities.split(";") if c.strip()]
    try:
        body = ShopCreate.model_validate(fields)
    except ValidationError as exc:
        why = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'shop'}: {e['msg']}" for e in exc.errors()
        )
        raise _refuse("create the shop", why) from exc
    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        shop = create_shop(conn=conn, body=body, created_by=None, now=now())
    _emit(as_json, shop.model_dump(mode="json"), f"shop {shop.shop_id} ({shop.name}), verified")


@app.command("verify-shop")
def verify_shop_cmd(
    ctx: typer.Context,
    shop_id: Annotated[int, typer.Argument(help="The shop that applied.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Verify a shop that applied, so it is offered orders from now on."""
    import db
    from api.orders.actions import now
    from api.problems import ProblemError
    from api.shops.onboarding import verify

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        try:
            shop = verify(conn=conn, shop_id=shop_id, by=None, now=now())
        except ProblemError as exc:
            raise _refuse("verify the shop", exc.problem.detail) from exc
    _emit(as_json, shop.model_dump(mode="json"), f"shop {shop.shop_id} ({shop.name}) verified")


@app.command("invite")
def invite_cmd(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Whom to invite.")],
    role: Annotated[str, typer.Option(help="owner, shop_staff, fleet_manager or admin.")],
    fleet_id: Annotated[int | None, typer.Option(help="A fleet manager's fleet.")] = None,
    shop_id: Annotated[int | None, typer.Option(help="Shop staff's shop.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Invite a person; hand them the printed token, which they redeem once with a password
    of their choosing at POST /auth/invitations/accept."""
    import db
    from api.auth.invitations import invite
    from api.auth.users import UserError
    from api.orders.actions import now

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        try:
            new = invite(
                conn=conn,
                email=email,
                role=role,  # type: ignore[arg-type]  # invite checks it
                fleet_id=fleet_id,
                shop_id=shop_id,
                now=now(),
            )
        except UserError as exc:
            raise _refuse("invite", exc) from exc
    doc = {"invitation_id": new.invitation_id, "email": new.email, "role": new.role}
    doc |= {"fleet_id": new.fleet_id, "shop_id": new.shop_id, "token": new.token}
    doc |= {"expires_at": new.expires_at.isoformat(), "accept_path": "/auth/invitations/accept"}
    text = f"invitation for {email} ({role}), valid until {new.expires_at:%Y-%m-%d %H:%M %Z}:"
    _emit(as_json, doc, f"{text}\n{new.token}")


@app.command("pairing-code")
def pairing_code_cmd(
    ctx: typer.Context,
    device_ids: Annotated[list[str], typer.Argument(help="Devices to label.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Issue new pairing codes for dongles' labels (earlier codes stop working); an owner
    claims the car with one at POST /vehicles/claims."""
    import db
    from api.devices.pairing import issue_codes
    from db.rows import scalars

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        known = set(
            scalars(conn, "SELECT device_id FROM devices WHERE device_id = ANY(%s)", (device_ids,))
        )
        missing = [d for d in device_ids if d not in known]
        if missing:
            raise _refuse(
                "issue pairing codes", f"no device {', '.join(missing)} (see `wrenchlight demo`)"
            )
        with conn.transaction():
            codes = issue_codes(conn=conn, device_ids=device_ids)
    _emit(as_json, {"pairing_codes": codes}, "\n".join(f"{d}  {c}" for d, c in codes.items()))


@app.command("shops")
def shops_cmd(
    ctx: typer.Context,
    pending: Annotated[
        bool, typer.Option("--pending", help="Only shops waiting for verification.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List shops by id, with whether each is verified (`--pending`: applications to verify)."""
    import db
    from api.auth.principal import Principal
    from api.shops.onboarding import list_page

    admin = Principal(user_id=0, role="admin")
    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        page = list_page(
            conn=conn,
            principal=admin,
            limit=limit,
            cursor=None,
            verified=False if pending else None,
        )
    for shop in page.items:
        state = "verified" if shop.verified else "waiting"
        _emit(as_json, shop.model_dump(mode="json"), f"{shop.shop_id:>6}  {state:<8}  {shop.name}")


@app.command("prune-sessions")
def prune_sessions_cmd(
    ctx: typer.Context,
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="Rows deleted per transaction.")
    ] = 10_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Delete the web app's finished sessions and sign-in links.

    A session is finished a day after it expired; a sign-in link a day after it was used or
    expired (the day's grace: the app's processes each read their own clock). Signing in
    removes a few each time already; run this from cron (daily is plenty) to remove the rest,
    e.g. those of people who never come back. Deletes in batches of --batch rows, each its own
    transaction, so it never holds many rows locked; safe while the app runs.
    """
    import db
    from web import links, sessions
    from web.deps import clock

    now = clock()  # the clock the web app writes and checks the rows by
    removed = {"sessions": 0, "links": 0}
    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        for table, prune in (("sessions", sessions.prune), ("links", links.prune)):
            while (done := prune(conn=conn, now=now, limit=batch)) > 0:
                removed[table] += done
    before = now - sessions.PRUNE_GRACE
    doc: dict[str, object] = {**removed, "finished_before": before.isoformat()}
    text = (
        f"removed {removed['sessions']} sessions and {removed['links']} sign-in links "
        f"finished before {before:%Y-%m-%d %H:%M %Z}"
    )
    _emit(as_json, doc, text)


# Written by the broker module, which holds the Mosquitto configuration it builds; listed last.
app.command("broker-config")(broker_config_cmd)
