# SPDX-License-Identifier: MIT
"""``wrenchlight bench ingest`` and ``bench layout``: a simulated fleet's last days as encoded
batches, run through this package's competitors, and printed side by side."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from benchmarks.host import Host, host_of
from benchmarks.progress import Bars, bars

if TYPE_CHECKING:
    from benchmarks.ingest import Workload


def fleet_workload(
    host: Host, vehicles: int, days: int, *, seed: int = 0, progress: Bars | None = None
) -> Workload:
    """The simulated fleet's last ``days`` days (to yesterday) as encoded batches and rows."""
    from benchmarks.ingest import WorkloadBuilder
    from firmware_sim.daily_driving import make_fleet
    from firmware_sim.fleet_arrays import FleetSim

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
    for d in range(days):
        for i, trace in sim.run_day(first_day + dt.timedelta(days=d)):
            for batch in host.trace_batches(trace, device_id=devices[i]):
                builder.add(i, batch)
        if progress is not None:
            progress("simulating and encoding", d + 1, days)
    return builder.build()


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _cpu_s(value: float | None) -> str:
    """CPU seconds, or why there are none (a server on another machine is not measured)."""
    return "not local" if value is None else f"{value:.2f}"


def print_ingest(console: Console, f: dict[str, Any], vehicles: int, days: int) -> None:
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
    from benchmarks.ingest import register, run_all

    host = host_of(ctx)
    console = Console(stderr=as_json)
    with ExitStack() as stack:
        with bars(console) as progress:
            progress_bars = Bars(progress)
            workload = fleet_workload(host, vehicles, days, seed=seed, progress=progress_bars)
            database_url = host.database(stack)
            mqtt_url = host.broker(stack)
            with db.connect(database_url, autocommit=True) as conn:
                register(conn, workload)
            figures = run_all(
                database_url,
                mqtt_url,
                workload,
                seconds=seconds,
                workers=workers or [1, 2],
                profile_path=profile,
                progress=progress_bars,
            )
        figures.update(vehicles=vehicles, days=days, seconds=seconds, seed=seed)
    if profile is not None:
        _print_profile(profile, err=as_json)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    print_ingest(console, figures, vehicles, days)


def _print_layout(console: Console, f: dict[str, Any]) -> None:
    from benchmarks.ingest.layout import LAYOUTS, QUERIES

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


def bench_layout(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
    vehicles: Annotated[int, typer.Option(min=1, help="Fleet size.")] = 100,
    days: Annotated[int, typer.Option(min=1, help="Simulated days of driving.")] = 4,
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs of each query.")] = 15,
    seed: Annotated[int, typer.Option(help="Fleet seed.")] = 0,
) -> None:
    """Readings layout: one row per sample vs one row per timestamp (COPY, size, queries)."""
    from benchmarks.ingest.layout import run_layout

    host = host_of(ctx)
    console = Console(stderr=as_json)
    with ExitStack() as stack, bars(console) as progress:
        progress_bars = Bars(progress)
        workload = fleet_workload(host, vehicles, days, seed=seed, progress=progress_bars)
        database_url = host.database(stack, migrate=False)
        figures = run_layout(database_url, workload, repeats=repeats, progress=progress_bars)
    figures.update(days=days, seed=seed)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    _print_layout(console, figures)
