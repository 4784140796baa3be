# SPDX-License-Identifier: MIT
"""``wrenchlight bench``: competitors side by side, in one run, on the same data.

Absolute figures on a shared machine are noisy; the ratios between competitors measured in the
same run are what to compare across runs.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from contextlib import ExitStack
from typing import Annotated, Any

import numpy as np
import typer

from wrenchlight.cli import _settings, app

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
    from firmware_sim.fleet import make_fleet, simulate_fleet
    from firmware_sim.fleetsim import FleetSim

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


@bench_app.command("ingest")
def bench_ingest(ctx: typer.Context) -> None:
    """Ingest pipeline (batched) vs one message per transaction vs a bare binary COPY."""
    import db
    from ingest.bench import main as ingest_bench
    from wrenchlight.services import database

    with ExitStack() as stack:
        url = database(_settings(ctx), stack, "wrenchlight_bench", fresh=True)
        db.upgrade(url)
        ingest_bench(url)


@bench_app.command("all")
def bench_all(ctx: typer.Context) -> None:
    """Every benchmark in turn."""
    bench_codec(as_json=False)
    bench_sim(vehicles=500, days=2, as_json=False)
    bench_ingest(ctx)
