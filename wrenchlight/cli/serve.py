# SPDX-License-Identifier: MIT
"""The long-running commands: ``demo`` (every part together), ``ingest`` and ``api``."""

from __future__ import annotations

import json
import os
import secrets
import sys
from typing import Annotated

import typer
from rich.console import Console

from wrenchlight.cli.common import err, require_db, require_mqtt, settings_of


def demo(
    ctx: typer.Context,
    vehicles: Annotated[int, typer.Option(min=1, max=500, help="Simulated vehicles.")] = 20,
    days: Annotated[int, typer.Option(min=1, max=730, help="Simulated days of driving.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed of the fleet.")] = 7,
    exit_after: Annotated[
        bool, typer.Option("--exit", help="Stop after the run instead of serving the API.")
    ] = False,
    live: Annotated[
        bool, typer.Option(help="Also run one vehicle on the real serial path (pty → python-OBD).")
    ] = True,
    live_seconds: Annotated[
        float, typer.Option(min=0, help="Keep the live vehicle driving at least this long.")
    ] = 15.0,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON line (API URL, accounts, summary): once the API is up and "
            "the demo world is built after the drive, or with --exit at the end.",
        ),
    ] = False,
) -> None:
    """Run every part together on a simulated fleet (embedded services unless configured)."""
    from wrenchlight.demo import DemoError, DemoOptions, run_demo
    from wrenchlight.rundir import DataDirBusy
    from wrenchlight.signals import Stopped, stop_on_signals

    console = Console(stderr=as_json)
    # Serving: the one JSON line comes as soon as the API and the world are up, not at exit.
    # Not before the world: the cars each account holds and the shops its staff work at are
    # chosen from what the drive leaves (README, "wrenchlight demo --json").
    serving_json = as_json and not exit_after
    try:
        with stop_on_signals():
            summary = run_demo(
                settings_of(ctx),
                DemoOptions(
                    vehicles=vehicles, days=days, seed=seed, live=live, min_live_s=live_seconds
                ),
                console=console,
                serve_forever=not exit_after,
                on_ready=(lambda s: typer.echo(json.dumps(s))) if serving_json else None,
            )
    except (DemoError, DataDirBusy) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except Stopped as exc:
        # Stopped before the summary: everything it started is stopped by now.
        typer.echo(f"demo stopped ({exc})", err=True)
        raise typer.Exit(128 + exc.signum) from exc
    if as_json and not serving_json:
        typer.echo(json.dumps(summary))


def ingest_cmd(
    ctx: typer.Context,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes in the consumer group.")
    ] = 1,
    group: Annotated[
        str,
        typer.Option(help="MQTT shared-subscription group: workers of one group split the load."),
    ] = "ingest",
    client_prefix: Annotated[
        str | None,
        typer.Option(
            help="Client ids are PREFIX-0..N-1 (default wl-ingest-HOSTNAME); keep them stable "
            "so a restarted worker resumes its broker session."
        ),
    ] = None,
    session_expiry: Annotated[
        int,
        typer.Option(min=0, help="Seconds the broker keeps queueing for a worker that is away."),
    ] = 3600,
    metrics_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Serve Prometheus /metrics on this port (0: off)."),
    ] = 9464,
    metrics_host: Annotated[
        str, typer.Option(help="Address the metrics server binds.")
    ] = "127.0.0.1",
    json_logs: Annotated[
        bool, typer.Option("--json-logs", help="Log one JSON object per line.")
    ] = False,
) -> None:
    """Consume device telemetry from MQTT into the database until SIGINT or SIGTERM.

    Each worker acknowledges a message only after its rows are committed; a worker that dies
    is restarted, and what it had not committed is redelivered by the broker.
    """
    from ingest import run

    settings = settings_of(ctx)
    if json_logs:
        import logging

        from ingest.logs import setup_logging

        setup_logging(logging.getLogger().getEffectiveLevel(), json_lines=True)
    run(
        require_db(settings),
        require_mqtt(settings),
        workers=workers,
        group=group,
        client_prefix=client_prefix,
        session_expiry_s=session_expiry,
        metrics_port=metrics_port or None,
        metrics_host=metrics_host,
        json_logs=json_logs,
    )


def api_cmd(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings).")] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Serve on exactly this port, or fail if it is taken (default: "
            "WRENCHLIGHT_API_PORT, or a free port when that one is taken).",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (one per core is a good start).")
    ] = 1,
) -> None:
    """Serve the HTTP API with uvicorn (OpenAPI at /docs)."""
    from wrenchlight.api_config import build_app, device_broker
    from wrenchlight.apiserver import port_free
    from wrenchlight.embedded import free_port

    settings = settings_of(ctx)
    try:
        device_broker(settings)  # dynsec without its control URL: refuse, in one line
    except ValueError as e:
        err.print(f"error: {e}", soft_wrap=True, highlight=False, markup=False)
        raise typer.Exit(2) from None
    host = host or settings.api_host
    if port is not None and not port_free(host, port):
        err.print(
            f"error: port {port} on {host} is taken; choose another with --port, or leave "
            "--port out to get a free one",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    if port is None:
        wanted = settings.api_port
        port = wanted if wanted and port_free(host, wanted) else free_port()
    database_url = require_db(settings)
    if settings.jwt_secret is None:
        if workers > 1:
            # Every worker must sign and accept the same tokens.
            os.environ["WRENCHLIGHT_JWT_SECRET"] = secrets.token_urlsafe(32)
        err.print(
            "[yellow]WRENCHLIGHT_JWT_SECRET is not set:[/] access tokens are signed with a "
            "random secret and die with this process"
        )
    # First on stdout, so a script can read where the API is.
    typer.echo(f"API at http://{host}:{port} (OpenAPI: http://{host}:{port}/docs)")
    sys.stdout.flush()
    if workers > 1:
        from wrenchlight.apiworkers import serve as serve_workers

        os.environ["WRENCHLIGHT_DATABASE_URL"] = database_url
        serve_workers(host, port, workers)
        return
    import uvicorn

    # Proxy headers are the app's business (trusted_proxies), not uvicorn's default trust.
    uvicorn.run(build_app(settings, database_url), host=host, port=port, proxy_headers=False)
