# SPDX-License-Identifier: MIT
"""``wrenchlight sim``: one simulated car behind an ELM327-compatible dongle (firmware_sim's own
``dongle`` command), and a fleet driven at accelerated time through the edge agent's batching."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console

from firmware_sim.cli import dongle
from wrenchlight.cli.common import require_mqtt, settings_of

app = typer.Typer(help="Simulated vehicles and an ELM327-compatible dongle.")
app.command("dongle")(dongle)


@app.command("fleet")
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

    from firmware_sim.daily_driving import make_fleet
    from wrenchlight.feed import Sampling, drive_fleet

    url = mqtt or require_mqtt(settings_of(ctx))
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
