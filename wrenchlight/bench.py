# SPDX-License-Identifier: MIT
"""``wrenchlight bench``: competitors side by side, in one run, on the same data.

Absolute figures on a shared machine are noisy; the ratios between competitors measured in the
same run are what to compare across runs.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from wrenchlight.cli import _settings, app
from wrenchlight.settings import Settings

if TYPE_CHECKING:
    from ingest.bench import Workload

bench_app = typer.Typer(
    help="Benchmarks: our way vs the naive way vs the physical limit.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")


def _codec_figures(batches: int = 300) -> dict[str, Any]:
    from firmware_sim.cycles import load_cycle
    from firmware_sim.vehicle import Vehicle, VehicleSpec
    from telemetry import decode, encode
    from wrenchlight.feed import Sampling, trace_batches

    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    trace = Vehicle(VehicleSpec(vin="1HGCM82633A004352")).drive(
        np.tile(load_cycle("udds"), 4), start=start
    )
    data = list(trace_batches(trace, device_id="bench", sampling=Sampling(window_s=60)))
    data = (data * (batches // len(data) + 1))[:batches]
    samples = sum(b.sample_count for b in data)
    results: dict[str, Any] = {"batches": len(data), "samples": samples}

    def naive(b: Any) -> list[bytes]:
        return [
            json.dumps(
                {"device_id": b.device_id, "vin": b.vin, "time_ms": t, "signal": s, "value": v}
            ).encode()
            for t, s, v in b.samples()
        ]

    for name, enc, dec in (
        ("binary", lambda b: [encode(b)], lambda ps: [decode(p) for p in ps]),
        ("json_batch", lambda b: [encode(b, "json")], lambda ps: [decode(p) for p in ps]),
        ("naive_json_per_sample", naive, lambda ps: [json.loads(p) for p in ps]),
    ):
        t_start = time.perf_counter()
        payloads = [enc(b) for b in data]
        t_mid = time.perf_counter()
        for ps in payloads:
            dec(ps)
        t_end = time.perf_counter()
        total_bytes = sum(len(p) for ps in payloads for p in ps)
        results[name] = {
            "bytes_per_sample": round(total_bytes / samples, 3),
            "messages": sum(len(ps) for ps in payloads),
            "encode_samples_per_s": round(samples / (t_mid - t_start)),
            "decode_samples_per_s": round(samples / (t_end - t_mid)),
        }
    results["size_ratio_naive_over_binary"] = round(
        results["naive_json_per_sample"]["bytes_per_sample"]
        / results["binary"]["bytes_per_sample"],
        1,
    )
    return results


@bench_app.command("codec")
def bench_codec(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Wire size and codec speed: binary batch vs JSON batch vs one JSON message per sample."""
    figures = _codec_figures()
    if as_json:
        typer.echo(json.dumps(figures))
        return
    typer.echo(
        f"{figures['samples']:,} samples of simulated UDDS driving in "
        f"{figures['batches']} one-minute batches"
    )
    for name in ("binary", "json_batch", "naive_json_per_sample"):
        f = figures[name]
        typer.echo(
            f"  {name:<24} {f['bytes_per_sample']:>8.2f} B/sample {f['messages']:>8,} msgs "
            f"encode {f['encode_samples_per_s']:>11,}/s decode {f['decode_samples_per_s']:>11,}/s"
        )
    typer.echo(f"  naive / binary size: {figures['size_ratio_naive_over_binary']}x")


def _sim_figures(vehicles: int, days: int, seed: int = 0) -> dict[str, Any]:
    from firmware_sim.daily_driving import make_fleet, simulate_fleet
    from firmware_sim.fleet_arrays import FleetSim

    first_day = dt.date(2026, 3, 2)
    # Warm the caches (cycle files, trip pieces) so neither competitor pays for them.
    for _ in FleetSim(make_fleet(2, seed=seed), seed=seed).run(first_day, 1):
        pass
    results: dict[str, Any] = {"vehicles": vehicles, "days": days}
    fleet = make_fleet(vehicles, seed=seed)
    t0 = time.perf_counter()
    steps = samples = 0
    for trace in simulate_fleet(fleet, first_day, days, seed=seed):
        steps += len(trace)
        samples += trace.sample_count
    slow_s = time.perf_counter() - t0
    sim = FleetSim(make_fleet(vehicles, seed=seed), seed=seed)
    t0 = time.perf_counter()
    for _ in sim.run(first_day, days):
        pass
    fast_s = time.perf_counter() - t0
    for name, n_steps, n_samples, elapsed in (
        ("vectorised_fleet", sim.steps, sim.samples, fast_s),
        ("per_vehicle_drive", steps, samples, slow_s),
    ):
        results[name] = {
            "steps": n_steps,
            "samples": n_samples,
            "seconds": round(elapsed, 2),
            "steps_per_s": round(n_steps / elapsed),
            "samples_per_s": round(n_samples / elapsed),
        }
    results["speedup_vectorised_over_per_vehicle"] = round(
        results["vectorised_fleet"]["samples_per_s"]
        / results["per_vehicle_drive"]["samples_per_s"],
        2,
    )
    return results


@bench_app.command("sim")
def bench_sim(
    vehicles: Annotated[int, typer.Option(min=1, help="Fleet size.")] = 500,
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 2,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fleet simulator: vectorised across vehicles vs one Vehicle.drive per trip."""
    figures = _sim_figures(vehicles, days)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    typer.echo(
        f"{vehicles} vehicles x {days} days at 1 Hz; a sample is one value of one signal "
        "(~10 per step; EVs have 4)"
    )
    for name in ("vectorised_fleet", "per_vehicle_drive"):
        f = figures[name]
        typer.echo(
            f"  {name:<18} {f['steps']:>12,} steps {f['samples']:>13,} samples "
            f"{f['seconds']:>7.2f} s  {f['steps_per_s']:>11,} steps/s "
            f"{f['samples_per_s']:>12,} samples/s"
        )
    typer.echo(f"  vectorised / per-vehicle: {figures['speedup_vectorised_over_per_vehicle']}x")


class _Bars:
    """Rich progress bars for the phases a benchmark reports through its progress callback."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: float, total: float) -> None:
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._progress.add_task(phase, total=total)
        self._progress.update(task, completed=done, total=total)


def _bars(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _fleet_workload(
    vehicles: int, days: int, *, seed: int = 0, progress: _Bars | None = None
) -> Workload:
    """The simulated fleet's last ``days`` days (to yesterday) as encoded batches and rows."""
    from firmware_sim.daily_driving import make_fleet
    from firmware_sim.fleet_arrays import FleetSim
    from ingest.bench import WorkloadBuilder
    from wrenchlight.feed import Sampling, trace_batches

    fleet = make_fleet(vehicles, seed=seed)
    # Device ids of this run only: on a shared broker, stale sessions never mix with ours.
    run = uuid.uuid4().hex[:6]
    builder = WorkloadBuilder()
    devices = []
    for i, member in enumerate(fleet):
        devices.append(f"bench-{run}-{i:05d}")
        builder.add_device(devices[-1], member.vehicle.spec.vin)
    first_day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)
    sim = FleetSim(fleet, seed=seed)
    sampling = Sampling()
    for d in range(days):
        for i, trace in sim.run_day(first_day + dt.timedelta(days=d)):
            for batch in trace_batches(trace, device_id=devices[i], sampling=sampling):
                builder.add(i, batch)
        if progress is not None:
            progress("simulating and encoding", d + 1, days)
    return builder.build()


def _bench_database(settings: Settings, stack: ExitStack, *, migrate: bool = True) -> str:
    """A fresh database for one benchmark run, dropped afterwards on a configured server.

    A configured ``WRENCHLIGHT_DATABASE_URL`` only names the server: the benchmark truncates
    what it writes between competitors, so it never runs in that database itself.
    """
    import psycopg
    from psycopg import sql

    import db
    from db.migrate import with_database
    from wrenchlight.services import database, lock_data_dir

    if settings.database_url:
        server = settings.database_url
        name = f"wl_bench_{uuid.uuid4().hex[:10]}"
        try:
            with psycopg.connect(server, autocommit=True) as conn:
                for attempt in range(5):
                    try:
                        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                        break
                    except psycopg.errors.ObjectInUse:  # template1 busy: another CREATE
                        if attempt == 4:
                            raise
                        time.sleep(0.5 * (attempt + 1))
        except psycopg.Error as exc:
            raise typer.BadParameter(
                f"cannot create a bench database on the configured server ({exc}); the "
                "benchmark needs CREATEDB and never writes into the configured database"
            ) from exc

        def drop() -> None:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

        stack.callback(drop)
        url = with_database(server, name)
    else:
        lock_data_dir(settings, stack, "bench")
        url = database(settings, stack, "wrenchlight_bench", fresh=True)
    if migrate:
        db.upgrade(url)
    return url


def _broker(settings: Settings, stack: ExitStack) -> str:
    if settings.mqtt_url:
        return settings.mqtt_url
    from wrenchlight.embedded import EmbeddedBroker

    broker = EmbeddedBroker()
    url = broker.start()
    stack.callback(broker.stop)
    return url


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _cpu_s(value: float | None) -> str:
    """CPU seconds, or why there are none (a server on another machine is not measured)."""
    return "not local" if value is None else f"{value:.2f}"


def _print_ingest(console: Console, f: dict[str, Any], vehicles: int, days: int) -> None:
    met = f["targets_met"]

    def mark(key: str) -> str:
        return "[green]✓[/]" if met[key] else "[red]✗[/]"

    console.print(
        f"{f['devices']} vehicles x {days} days simulated: {f['samples']:,} samples in "
        f"{f['batches']:,} batches ({f['wire_bytes_per_sample']} bytes/sample on the wire)"
    )
    table = Table(title="ingest: samples per second, same rows, same run")
    for column in ("competitor", "samples", "seconds", "samples/s", "PostgreSQL CPU s", "ours is"):
        table.add_column(column, justify="left" if column == "competitor" else "right")
    naive, limit = f["naive"], f["limit"]
    table.add_row(
        "naive: JSON message per sample, INSERT per row",
        f"{naive['samples']:,}",
        f"{naive['seconds']:.2f}",
        _rate(naive["samples_per_s"]),
        "",
        f"{f['ours_over_naive']}x {mark('ours_over_naive')}",
    )
    for workers, r in f["ours"].items():
        table.add_row(
            f"ours: binary batches → {workers} IngestWorker process"
            + ("es" if workers != "1" else ""),
            f"{r['samples']:,}",
            f"{r['seconds']:.2f}",
            _rate(r["samples_per_s"]),
            _cpu_s(r["cpu_s"]["postgres_server"]),
            "best" if int(workers) == f["ours_workers"] else "",
        )
    table.add_row(
        "limit: binary COPY of the same rows, pre-encoded",
        f"{limit['samples']:,}",
        f"{limit['seconds']:.2f}",
        _rate(limit["samples_per_s"]),
        "",
        f"{f['ours_over_limit']:.2f}x {mark('ours_over_limit')}",
    )
    console.print(table)
    lat = f["latency"]
    console.print(
        f"publish → commit at {_rate(lat['paced_samples_per_s'])} samples/s (half of ours): "
        f"p50 {lat['latency_s']['p50']:.3f} s, p99 {lat['latency_s']['p99']:.3f} s "
        f"{mark('p99_commit_latency_s')}, max {lat['latency_s']['max']:.3f} s "
        f"over {lat['batches']:,} batches"
    )
    console.print(f"worker peak RSS at full rate: {f['worker_rss_mb']} MB {mark('worker_rss_mb')}")
    cpu = f["ours"][str(f["ours_workers"])]["cpu_s"]
    console.print(
        f"CPU seconds in the best ours run ({cpu['wall']} s wall x {cpu.get('machine_cores')} "
        f"cores; the machine was busy {cpu.get('machine_busy')}): worker writer thread "
        f"{cpu['worker_writer']}, MQTT thread {cpu['worker_mqtt_network']}, upkeep thread "
        f"{cpu['worker_upkeep']}, worker process in all {cpu['worker_process']}; PostgreSQL "
        f"server in all {_cpu_s(cpu['postgres_server'])} (backends {cpu['postgres_backends']}); "
        f"broker {cpu['broker']}; publisher "
        f"{cpu['publisher_process']}"
    )
    top = ", ".join(f"{name} {value}" for name, value in cpu.get("top_processes", {}).items())
    console.print(f"CPU seconds by process meanwhile: {top} (steal {cpu.get('machine_steal')})")


def _print_profile(path: Path, *, err: bool, top: int = 25) -> None:
    import io
    import pstats

    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(str(path), stream=out).sort_stats(order).print_stats(top)
        typer.echo(f"ingest writer thread under cProfile, by {order} ({path})", err=err)
        typer.echo(out.getvalue().split("\n", 3)[-1], err=err)


@bench_app.command("ingest")
def bench_ingest(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
    vehicles: Annotated[int, typer.Option(min=1, help="Fleet size.")] = 100,
    days: Annotated[int, typer.Option(min=1, help="Simulated days of driving.")] = 4,
    seconds: Annotated[
        float,
        typer.Option(min=0.5, help="Length of the time-boxed phases: naive and latency."),
    ] = 10.0,
    workers: Annotated[
        list[int] | None,
        typer.Option("--workers", min=1, help="Worker processes to try (repeat: 1 and 2)."),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(help="Also run one worker under cProfile; write its stats here."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Fleet seed.")] = 0,
) -> None:
    """End to end through the broker: naive (JSON per sample, INSERT per row) vs ours
    (binary batches, IngestWorker) vs the limit (binary COPY); latency at half rate; RSS."""
    import db
    from ingest.bench import register, run_all

    console = Console(stderr=as_json)
    with ExitStack() as stack:
        with _bars(console) as progress:
            bars = _Bars(progress)
            workload = _fleet_workload(vehicles, days, seed=seed, progress=bars)
            database_url = _bench_database(_settings(ctx), stack)
            mqtt_url = _broker(_settings(ctx), stack)
            with db.connect(database_url, autocommit=True) as conn:
                register(conn, workload)
            figures = run_all(
                database_url,
                mqtt_url,
                workload,
                seconds=seconds,
                workers=workers or [1, 2],
                profile_path=profile,
                progress=bars,
            )
        figures.update(vehicles=vehicles, days=days, seconds=seconds, seed=seed)
    if profile is not None:
        _print_profile(profile, err=as_json)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    _print_ingest(console, figures, vehicles, days)


def _print_layout(console: Console, f: dict[str, Any]) -> None:
    from ingest.bench.layout import LAYOUTS, QUERIES

    console.print(
        f"{f['samples']:,} samples of {f['vehicles']} vehicles; wide: {f['wide_rows']:,} rows, "
        f"{f['signals_per_wide_row']} values per row, {f['wide_null_fraction']:.0%} NULL"
    )
    table = Table(title="readings layout (median over vehicles; worst vehicle in brackets)")
    table.add_column("")
    for name in LAYOUTS:
        table.add_column(name, justify="right")
    table.add_row("COPY samples/s", *(_rate(f[t]["copy_samples_per_s"]) for t in LAYOUTS))
    table.add_row("bytes/sample on disk", *(f"{f[t]['bytes_per_sample']:.1f}" for t in LAYOUTS))
    table.add_row(
        "  of which index", *(f"{f[t]['index_bytes'] / f['samples']:.1f}" for t in LAYOUTS)
    )
    for name, (text, _) in QUERIES.items():
        table.add_row(
            f"{text}, ms",
            *(
                f"{f[t]['queries_ms'][name]['median']:.2f} ({f[t]['queries_ms'][name]['max']:.2f})"
                for t in LAYOUTS
            ),
        )
    console.print(table)
    console.print(f"query results identical across layouts: {f['results_match']}")


@bench_app.command("layout")
def bench_layout(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
    vehicles: Annotated[int, typer.Option(min=1, help="Fleet size.")] = 100,
    days: Annotated[int, typer.Option(min=1, help="Simulated days of driving.")] = 4,
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs of each query.")] = 15,
    seed: Annotated[int, typer.Option(help="Fleet seed.")] = 0,
) -> None:
    """Readings layout: one row per sample vs one row per timestamp (COPY, size, queries)."""
    from ingest.bench.layout import run_layout

    console = Console(stderr=as_json)
    with ExitStack() as stack, _bars(console) as progress:
        bars = _Bars(progress)
        workload = _fleet_workload(vehicles, days, seed=seed, progress=bars)
        database_url = _bench_database(_settings(ctx), stack, migrate=False)
        figures = run_layout(database_url, workload, repeats=repeats, progress=bars)
    figures.update(days=days, seed=seed)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    _print_layout(console, figures)


@bench_app.command("all")
def bench_all(ctx: typer.Context) -> None:
    """Every benchmark in turn."""
    bench_codec(as_json=False)
    bench_sim(vehicles=500, days=2, as_json=False)
    bench_ingest(ctx)
    bench_layout(ctx)
    from wrenchlight.bench_matching import bench_matching  # registers on this module's app

    bench_matching(ctx, shops=50_000, queries=1000, seed=0, as_json=False)
