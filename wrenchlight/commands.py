# SPDX-License-Identifier: MIT
"""Cloud-side and demo subcommands of ``wrenchlight`` (registered on import)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import secrets
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from firmware_sim.cli import app as sim_app
from wrenchlight.cli import (
    _require_db,
    _require_mqtt,
    _settings,
    app,
    err,
    orders_app,
    predictive_app,
)

app.add_typer(sim_app, name="sim", help="Simulated vehicles and an ELM327-compatible dongle.")


@sim_app.command("fleet")
def sim_fleet(
    ctx: typer.Context,
    vehicles: Annotated[int, typer.Option(min=1, max=100_000, help="Simulated vehicles.")] = 20,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Simulated days of driving.")] = 7,
    seed: Annotated[int, typer.Option(help="Random seed of the fleet.")] = 0,
    mqtt: Annotated[
        str | None, typer.Option(help="Broker URL (default: WRENCHLIGHT_MQTT_URL).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="End with one JSON summary line.")
    ] = False,
) -> None:
    """Drive a fleet at accelerated time through the edge agent's batching and publishing."""
    from contextlib import ExitStack

    from firmware_sim.fleet import make_fleet
    from wrenchlight.feed import Sampling, drive_fleet

    url = mqtt or _require_mqtt(_settings(ctx))
    console = Console(stderr=as_json)
    fleet = make_fleet(vehicles, seed=seed)
    devices = [f"sim-{seed}-{i:05d}" for i in range(vehicles)]
    first_day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)
    with ExitStack() as stack:
        stats = drive_fleet(
            fleet,
            devices,
            first_day,
            days,
            mqtt_url=url,
            seed=seed + 1,
            sampling=Sampling(),
            console=console,
            stack=stack,
        )
    kinds: dict[str, int] = {}
    for member in fleet:
        kinds[member.vehicle.spec.kind] = kinds.get(member.vehicle.spec.kind, 0) + 1
    summary = {
        "vehicles": vehicles,
        "days": days,
        "seed": seed,
        **dataclasses.asdict(stats),
        "vehicles_by_kind": kinds,
        "vehicles_with_stored_dtcs": sum(1 for m in fleet if m.vehicle.dtcs),
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        console.print(
            f"{vehicles} vehicles x {days} days: {stats.trips:,} trips, "
            f"{stats.samples_generated:,} samples simulated, {stats.batches_published:,} "
            f"batches ({stats.samples_published:,} samples) published in {stats.elapsed_s} s"
        )
    if not stats.drained:
        raise typer.Exit(1)


@app.command("demo")
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
            help="Print one JSON line (API URL, accounts, summary): when the API is up, or "
            "with --exit at the end.",
        ),
    ] = False,
) -> None:
    """Run every part together on a simulated fleet (embedded services unless configured)."""
    from wrenchlight.demo import DemoError, DemoOptions, run_demo
    from wrenchlight.rundir import DataDirBusy
    from wrenchlight.signals import Stopped, stop_on_signals

    console = Console(stderr=as_json)
    # Serving: the one JSON line comes as soon as the API and the world are up, not at exit.
    serving_json = as_json and not exit_after
    try:
        with stop_on_signals():
            summary = run_demo(
                _settings(ctx),
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


@app.command("ingest")
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

    settings = _settings(ctx)
    if json_logs:
        import logging

        from ingest.logs import setup_logging

        setup_logging(logging.getLogger().getEffectiveLevel(), json_lines=True)
    run(
        _require_db(settings),
        _require_mqtt(settings),
        workers=workers,
        group=group,
        client_prefix=client_prefix,
        session_expiry_s=session_expiry,
        metrics_port=metrics_port or None,
        metrics_host=metrics_host,
        json_logs=json_logs,
    )


DEFAULT_MODELS_DIR = Path("wrenchlight-models")
ModelsOpt = Annotated[
    Path,
    typer.Option(
        "--models",
        help="Artifacts of `predictive train`: used for the oil life when present there.",
    ),
]


def _learned_models(directory: Path) -> Any:
    """The learned models in ``directory``, or None when it holds none (physics only)."""
    from predictive.learned import MANIFEST_FILE, ArtifactError, load_models

    if not (directory / MANIFEST_FILE).is_file():
        return None
    try:
        return load_models(directory)
    except ArtifactError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@predictive_app.command("run")
def predictive_run(
    ctx: typer.Context,
    owner: Annotated[
        str | None, typer.Option(help="Name in the shard leases (default: host:pid:random).")
    ] = None,
    max_shards: Annotated[
        int | None, typer.Option(min=1, help="Hold at most this many shards (default: fair share).")
    ] = None,
    lease_ttl: Annotated[float, typer.Option(min=1.0, help="Shard lease time in seconds.")] = 30.0,
    models: ModelsOpt = DEFAULT_MODELS_DIR,
) -> None:
    """Evaluate vehicles as their data arrives (LISTEN wl_vehicle_data) until interrupted.

    Run several: each leases a share of the vehicle shards and takes over a dead one's."""
    import signal

    from predictive.worker import run_evaluator

    settings = _settings(ctx)
    learned_models = _learned_models(models)
    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    run_evaluator(
        _require_db(settings),
        stop_event=stop,
        owner=owner,
        max_shards=max_shards,
        lease_ttl_s=lease_ttl,
        oil_alert_pct=settings.oil_alert_pct,
        pad_alert_mm=settings.pad_alert_mm,
        learned_models=learned_models,
    )


@predictive_app.command("sweep")
def predictive_sweep(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    models: ModelsOpt = DEFAULT_MODELS_DIR,
) -> None:
    """Evaluate every vehicle with new data once (what `run` does continuously)."""
    import db
    from predictive.evaluator import evaluate_pending

    settings = _settings(ctx)
    learned_models = _learned_models(models)
    with db.connect(_require_db(settings), autocommit=True) as conn:
        ids = evaluate_pending(
            conn=conn,
            now=dt.datetime.now(dt.UTC),
            oil_alert_pct=settings.oil_alert_pct,
            pad_alert_mm=settings.pad_alert_mm,
            learned_models=learned_models,
        )
    typer.echo(json.dumps({"evaluated": ids}) if as_json else f"evaluated {len(ids)} vehicles")


@orders_app.command("dispatch")
def orders_dispatch(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a pre-filled service order for every open alert that has none."""
    import db
    from orders.service import order_open_alerts

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        created = order_open_alerts(conn=conn, now=dt.datetime.now(dt.UTC))
    typer.echo(json.dumps({"created": created}) if as_json else f"created {len(created)} orders")


@orders_app.command("seed-shops")
def orders_seed_shops(
    ctx: typer.Context,
    lat: Annotated[float, typer.Option(help="Centre latitude.")] = 41.8781,
    lon: Annotated[float, typer.Option(help="Centre longitude.")] = -87.6298,
    count: Annotated[int, typer.Option(min=1, max=1000)] = 12,
) -> None:
    """Seed a directory of repair shops around a centre point."""
    import db
    from orders.shops import seed_shops

    with db.connect(_require_db(_settings(ctx)), autocommit=True) as conn:
        ids = seed_shops(conn=conn, center_lat=lat, center_lon=lon, count=count)
    typer.echo(f"{len(ids)} shops")


@app.command("api")
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
    from wrenchlight.api_config import build_app
    from wrenchlight.apiserver import port_free
    from wrenchlight.embedded import free_port

    settings = _settings(ctx)
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
    database_url = _require_db(settings)
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
