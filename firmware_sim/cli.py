# SPDX-License-Identifier: MIT
"""Command line: ``wrenchlight sim dongle --pty`` (or ``python -m firmware_sim dongle --pty``)."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
import time
from typing import Annotated

import numpy as np
import typer

from firmware_sim import cycles
from firmware_sim.elm327 import Elm327
from firmware_sim.fleet import make_fleet, simulate_fleet
from firmware_sim.realtime import RealtimeVehicle
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec
from firmware_sim.vin import make_vin

app = typer.Typer(help="Simulated vehicles and an ELM327-compatible OBD-II dongle.")


@app.command()
def dongle(
    pty: Annotated[bool, typer.Option("--pty", help="Serve on a pseudo-terminal.")] = False,
    cycle: Annotated[str, typer.Option(help="Drive cycle to loop.")] = "udds",
    vin: Annotated[str | None, typer.Option(help="17-character VIN (random if omitted).")] = None,
    latency_ms: Annotated[float, typer.Option(help="Delay before each OBD reply.")] = 0.0,
    speedup: Annotated[float, typer.Option(help="Simulated seconds per wall second.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed of the vehicle.")] = 0,
) -> None:
    """Run one car on a looping cycle behind an ELM327; print the device path first."""
    if not pty:
        typer.echo("only --pty is available for now", err=True)
        raise typer.Exit(2)
    try:
        speeds = cycles.load_cycle(cycle)
        spec = VehicleSpec(vin=vin or make_vin(np.random.default_rng(seed)))
    except (KeyError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    car = RealtimeVehicle(Vehicle(spec, seed=seed), speeds, speedup=speedup)
    elm = Elm327(car, latency_s=latency_ms / 1000.0)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    car.start()
    port = PtyDongle(elm)
    try:
        # First line of stdout is the device path: scripts and tests read it.
        print(port.path, flush=True)
        print(f"VIN {spec.vin}, cycle {cycle}, speedup {speedup}", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        port.close()
        car.stop()


@app.command("fleet-bench")
def fleet_bench(
    vehicles: Annotated[int, typer.Option(help="Fleet size.")] = 20,
    days: Annotated[int, typer.Option(help="Days to simulate.")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Time the physics over a whole fleet (no dongle); prints steps per second."""
    fleet = make_fleet(vehicles, seed=seed)
    t0 = time.perf_counter()
    steps = trips = 0
    for trace in simulate_fleet(fleet, dt.date(2024, 1, 1), days, seed=seed):
        steps += len(trace)
        trips += 1
    elapsed = time.perf_counter() - t0
    typer.echo(
        f"{vehicles} vehicles x {days} days: {trips} trips, {steps:,} steps (1 Hz) "
        f"in {elapsed:.2f} s = {steps / max(elapsed, 1e-9) / 1e6:.2f} M steps/s"
    )
