# SPDX-License-Identifier: MIT
"""``wrenchlight bench sim``: the fleet simulator vectorised across vehicles vs one
``Vehicle.drive`` per trip."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Annotated, Any

import typer


def sim_figures(vehicles: int, days: int, seed: int = 0) -> dict[str, Any]:
    """Samples per second of the vectorised fleet and of one ``Vehicle.drive`` per trip."""
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


def bench_sim(
    vehicles: Annotated[int, typer.Option(min=1, help="Fleet size.")] = 500,
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 2,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fleet simulator: vectorised across vehicles vs one Vehicle.drive per trip."""
    figures = sim_figures(vehicles, days)
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
