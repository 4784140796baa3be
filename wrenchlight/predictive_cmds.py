# SPDX-License-Identifier: MIT
"""``wrenchlight predictive brake-energy``: braking energy per trip of a recorded speed trace.

Registered on ``predictive_app`` on import (see ``wrenchlight.cli.main``); numpy and the
predictive package load only when the command runs.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wrenchlight.cli import predictive_app

if TYPE_CHECKING:
    from predictive.brake_energy import TripEnergy


class SpeedFormat(StrEnum):
    cmap = "cmap"
    cycle = "cycle"


class FuelType(StrEnum):
    petrol = "petrol"
    diesel = "diesel"
    hybrid = "hybrid"
    electric = "electric"


def _fail(message: str) -> typer.Exit:
    """One line on stderr, exit code 2 (as for the other input errors of ``wrenchlight``)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _energy(j: float) -> str:
    return f"{j / 1e3:,.0f} kJ" if abs(j) < 1e6 else f"{j / 1e6:,.2f} MJ"


def _duration(s: float) -> str:
    m, sec = divmod(round(s), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec:02d}"


def _print_table(results: list[TripEnergy], head: str, doc: dict[str, Any]) -> None:
    typer.echo(head)
    with_ref = any(r.reference_j_per_kg is not None for r in results)
    cols = ["trip", "start", "end", "duration", "km", "kinetic J/kg"]
    if with_ref:
        cols += ["NREL J/kg", "diff"]
    cols += ["shed J/kg", "friction", "front", "rear"]
    rows = []
    for r in results:
        if r.start is not None and r.end is not None:
            start, end = r.start, r.end[11:] if r.end[:10] == r.start[:10] else r.end
        else:
            start, end = f"{r.start_s:g} s", f"{r.end_s:g} s"
        row = [str(r.trip), start, end, _duration(r.duration_s), f"{r.distance_km:.2f}"]
        row.append(f"{r.kinetic_regen_j_per_kg:,.1f}")
        if with_ref:
            ref, diff = r.reference_j_per_kg, r.rel_diff
            row.append("-" if ref is None else f"{ref:,.1f}")
            row.append("-" if diff is None else f"{diff:+.4%}")
        row += [
            f"{r.kinetic_shed_j_per_kg:,.1f}",
            _energy(r.friction_j),
            _energy(r.friction_front_j),
            _energy(r.friction_rear_j),
        ]
        rows.append(row)
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    left = {"start", "end"}
    for line in [cols, *rows]:
        cells = [
            cell.ljust(w) if col in left else cell.rjust(w)
            for cell, col, w in zip(line, cols, widths, strict=True)
        ]
        typer.echo("  ".join(cells).rstrip())
    s = doc["summary"]
    typer.echo(
        f"total: {s['trips']} trips, {s['distance_km']:.2f} km, kinetic "
        f"{s['kinetic_regen_j_per_kg']:,.1f} J/kg (shed {s['kinetic_shed_j_per_kg']:,.1f}), "
        f"friction {_energy(s['friction_j'])}"
    )
    if "max_abs_rel_diff" in s:
        worst = s["max_abs_rel_diff"]
        typer.echo(
            "max |diff| vs NREL: "
            + ("undefined (reference 0)" if worst is None else f"{worst:.4%}")
            + f" (trip {s['worst_trip']})"
        )


BRAKE_ENERGY_HELP = (
    "Kinetic energy shed and friction-brake energy, per trip of a recorded speed trace.\n\n"
    "Formats (--format): cmap is a CMAP 2007 day file (columns timestamp,speed_mph,...: "
    "wall-clock timestamps, speed in mph, gaps in logging); cycle is a standard cycle "
    "(cycSecs,cycMps[,cycGrade]: s, m/s, grade as rise over run) or a TSDC trip "
    "(time_s,mps[,grade]), taken as one trip.\n\n"
    "Trips of a cmap file: with --trips, the rows of NREL's trips.csv (the samples from "
    "start_ts to end_ts inclusive; rows of other days are ignored); without it, the file split "
    "at logging gaps over 300 s (this reproduces NREL's trips).\n\n"
    "Per trip: start, end, duration, distance in km; kinetic energy shed per kg in J/kg by "
    "NREL's convention (the sum over samples of max(0, -Δ(½v²)/Δt), comparable to "
    "-total_kinetic_power_density_regen: across a logging gap of Δt s it counts 1/Δt of the "
    "drop); shed J/kg, counting every drop in full; the friction-brake energy for --mass-kg "
    "(J in JSON, kJ or MJ in text): the full kinetic energy shed less rolling resistance, "
    "aerodynamic drag, engine braking (petrol, diesel) and the slope where a grade is given, "
    "times the friction share for hybrids and EVs (0.25); and its front/rear split (70/30). "
    "With --trips, also NREL's figure, the relative difference and the largest |difference|."
    "\n\n"
    "Text by default, one JSON line with --json. A missing or unusable file: a one-line "
    "message and exit code 2."
)


@predictive_app.command("brake-energy", help=BRAKE_ENERGY_HELP)
def brake_energy(
    speed_csv: Annotated[
        Path, typer.Option("--speed-csv", help="The speed trace (CSV).", show_default=False)
    ],
    fmt: Annotated[
        SpeedFormat,
        typer.Option(
            "--format",
            help="cmap: a CMAP day file, speed in mph; cycle: cycSecs,cycMps or time_s,mps.",
            show_default=False,
        ),
    ],
    trips: Annotated[
        Path | None,
        typer.Option(
            "--trips",
            help="cmap only: NREL's trips.csv (start_ts,end_ts); adds its reference figure.",
        ),
    ] = None,
    mass_kg: Annotated[
        float, typer.Option("--mass-kg", min=1.0, help="Vehicle mass in kg, for the friction J.")
    ] = 1400.0,
    fuel_type: Annotated[
        FuelType,
        typer.Option(
            "--fuel-type",
            help="petrol/diesel: engine braking subtracted; hybrid/electric: regeneration "
            "takes most of the braking.",
        ),
    ] = FuelType.petrol,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Kinetic energy shed and friction-brake energy, per trip (help: BRAKE_ENERGY_HELP)."""
    from predictive.brake_energy import (
        TraceError,
        analyse,
        read_reference_trips,
        read_speed_csv,
        summary,
    )

    if trips is not None and fmt is not SpeedFormat.cmap:
        raise _fail("--trips applies to --format cmap only (a cycle file is one trip)")
    try:
        trace = read_speed_csv(speed_csv, fmt.value)
        refs = read_reference_trips(trips) if trips is not None else None
        results = analyse(trace, refs, mass_kg=mass_kg, fuel_type=fuel_type.value)
    except TraceError as exc:
        raise _fail(str(exc)) from None
    doc: dict[str, Any] = {
        "speed_csv": str(speed_csv),
        "format": trace.kind,
        "trips_csv": str(trips) if trips is not None else None,
        "mass_kg": mass_kg,
        "fuel_type": fuel_type.value,
        "trips": [r.as_dict() for r in results],
        "summary": summary(results),
    }
    if as_json:
        typer.echo(json.dumps(doc))
        return
    head = (
        f"{speed_csv} ({trace.kind}; {mass_kg:g} kg {fuel_type.value} car; kinetic J/kg by "
        "NREL's convention, shed J/kg counting drops across logging gaps in full)"
    )
    _print_table(results, head, doc)
