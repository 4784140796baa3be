# SPDX-License-Identifier: MIT
"""What every command group shares: the settings of the run, its database and broker, and the
console for errors.

Imports no command module, so any of them can import it without a cycle.
"""

from __future__ import annotations

from contextlib import ExitStack

import typer
from rich.console import Console

from wrenchlight.settings import Settings

err = Console(stderr=True)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root callback built for this run."""
    found: Settings = ctx.find_root().obj
    return found


def require_db(settings: Settings) -> str:
    """The database of this command: configured, the running demo's, or the data directory's.

    An embedded PostgreSQL started here runs until the command ends.
    """
    # typer bundles its own click: its context, not the click package's, is the current one.
    from typer._click.globals import get_current_context

    from wrenchlight.services import command_database

    if settings.database_url:
        return settings.database_url
    ctx = get_current_context()
    stack = ctx.find_root().with_resource(ExitStack())
    return command_database(settings, stack, ctx.command_path.removeprefix("wrenchlight "))


def require_mqtt(settings: Settings, *, reachable: bool = True) -> str:
    """The broker of this command (configured, or the running demo's); checked it answers."""
    from wrenchlight.failures import check_mqtt
    from wrenchlight.services import command_mqtt

    url = command_mqtt(settings)
    if not url:
        err.print(
            "[red]WRENCHLIGHT_MQTT_URL is not set[/] and no demo runs on "
            f"{settings.data_dir} (set it, e.g. mqtt://127.0.0.1:1883, or start `wrenchlight demo`)"
        )
        raise typer.Exit(2)
    if reachable:
        check_mqtt(url)
    return url
