# SPDX-License-Identifier: MIT
"""``wrenchlight admin``: bootstrap users and API keys, hand the broker its password file.

These talk to the database directly, so the first admin can be made before anyone can call
the API (registered on import by ``wrenchlight.cli.main``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from wrenchlight.cli import _require_db, _settings, app, err

admin_app = typer.Typer(help="Users, API keys and device credentials.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


def _emit(as_json: bool, doc: dict[str, object], text: str) -> None:
    typer.echo(json.dumps(doc) if as_json else text)


@admin_app.command("create-user")
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

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
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
            err.print(f"[red]cannot create the user:[/] {exc}")
            raise typer.Exit(2) from exc
    doc = {"user_id": user_id, "email": email, "role": role, "fleet_id": fleet_id}
    doc["shop_id"] = shop_id
    _emit(as_json, doc, f"user {user_id} ({email}, {role})")


@admin_app.command("create-key")
def create_key_cmd(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Whose key it is.")],
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API key for a user; the key is printed this once and cannot be shown again."""
    import db
    from api.auth.keys import create_key

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        row = conn.execute(
            "SELECT user_id FROM users WHERE lower(email) = lower(%s)", (email,)
        ).fetchone()
        if row is None:
            err.print(f"[red]no user with email {email}[/]")
            raise typer.Exit(2)
        new = create_key(conn=conn, user_id=row[0], name=name)
    doc = {"key_id": new.key_id, "user_id": row[0], "prefix": new.prefix, "key": new.key}
    _emit(as_json, doc, new.key)


@admin_app.command("mqtt-passwd")
def mqtt_passwd_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Mosquitto password_file to write.")],
) -> None:
    """Write every active device credential as a Mosquitto password file (mode 0600).

    Usernames are device ids; pair it with ``pattern readwrite wl/v1/%u/#`` in the broker's
    access list so each device reaches only its own topics. Reload Mosquitto (SIGHUP) after.
    """
    import db
    from api.devices.credentials import password_file

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        text = password_file(conn=conn)
    fd = os.open(out.with_suffix(out.suffix + ".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(out.with_suffix(out.suffix + ".tmp"), out)
    typer.echo(f"{len(text.splitlines())} device credentials written to {out}")
