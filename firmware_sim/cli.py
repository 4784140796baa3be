# SPDX-License-Identifier: MIT
"""Command line: ``wrenchlight sim dongle --pty`` (or ``python -m firmware_sim dongle --pty``)."""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
from typing import Annotated

import numpy as np
import typer

from firmware_sim import cycles, obd_pids
from firmware_sim.adapter_faults import AdapterFaults, FaultConfig
from firmware_sim.daily_driving import PROFILES, compose_trip
from firmware_sim.elm327 import Elm327, VehicleReader
from firmware_sim.realtime import RealtimeVehicle
from firmware_sim.transport import DEFAULT_TCP_PORT, PtyDongle, TcpDongle
from firmware_sim.vehicle import EcuSnapshot, Vehicle, VehicleSpec
from firmware_sim.vin import make_vin

app = typer.Typer(help="Simulated vehicles and an ELM327-compatible OBD-II dongle.")


@app.callback()
def _group() -> None:
    """Keep ``dongle`` a subcommand even while it is this app's only command."""


class _OnBus:
    """A vehicle reader whose car speaks ``protocol`` whatever its model says."""

    def __init__(self, reader: VehicleReader, protocol: str) -> None:
        self.reader, self.protocol = reader, protocol

    def snapshot(self) -> EcuSnapshot:
        """The car's snapshot with the bus replaced."""
        return dataclasses.replace(self.reader.snapshot(), protocol=self.protocol)

    def clear_dtcs(self) -> None:
        """Service 04, passed through."""
        self.reader.clear_dtcs()


def _speeds(*, cycle: str, profile: str | None, seed: int) -> np.ndarray:
    if profile is None:
        return cycles.load_cycle(cycle)
    # A day's worth of this driver's kind of trip (~40 km), looped by the real-time driver.
    return compose_trip(PROFILES[profile], 40.0, np.random.default_rng(seed))


@app.command()
def dongle(
    pty: Annotated[bool, typer.Option("--pty", help="Serve on a pseudo-terminal.")] = False,
    tcp: Annotated[
        int | None,
        typer.Option(help=f"Serve on this TCP port (Wi-Fi adapters: {DEFAULT_TCP_PORT})."),
    ] = None,
    cycle: Annotated[str, typer.Option(help="Drive cycle to loop.")] = "udds",
    vehicle_profile: Annotated[
        str | None, typer.Option(help=f"Driver profile instead of a cycle: {', '.join(PROFILES)}.")
    ] = None,
    vin: Annotated[str | None, typer.Option(help="17-character VIN (random if omitted).")] = None,
    latency_ms: Annotated[float, typer.Option(help="ECU response time per OBD request.")] = 0.0,
    baud: Annotated[int, typer.Option(help="Serial line speed to emulate (0: instant).")] = 0,
    dtc: Annotated[str, typer.Option(help="Stored trouble codes, e.g. P0301,C0035.")] = "",
    protocol: Annotated[str, typer.Option(help="The car's bus: 6, 7 or 3.")] = "6",
    clone: Annotated[bool, typer.Option("--clone", help="Behave like a v1.5 clone.")] = False,
    no_data_prob: Annotated[float, typer.Option(help="Chance of a spurious NO DATA.")] = 0.0,
    can_error_prob: Annotated[float, typer.Option(help="Chance a CAN ERROR burst starts.")] = 0.0,
    disconnect_prob: Annotated[float, typer.Option(help="Chance the adapter drops out.")] = 0.0,
    speedup: Annotated[float, typer.Option(help="Simulated seconds per wall second.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed of the vehicle and the faults.")] = 0,
) -> None:
    """Run one car on a looping cycle behind an ELM327; print the device path or host:port first."""
    if pty == (tcp is not None):
        typer.echo("give exactly one of --pty and --tcp PORT", err=True)
        raise typer.Exit(2)
    if protocol not in ("6", "7", "3"):
        typer.echo("--protocol must be 6, 7 or 3", err=True)
        raise typer.Exit(2)
    try:
        speeds = _speeds(cycle=cycle, profile=vehicle_profile, seed=seed)
        spec = VehicleSpec(vin=vin or make_vin(np.random.default_rng(seed)))
        codes = tuple(c.strip().upper() for c in dtc.split(",") if c.strip())
        for code in codes:
            obd_pids.encode_dtc(code)  # reject what the ECU could not encode
    except (KeyError, ValueError, IndexError) as exc:
        typer.echo(f"invalid option: {exc}", err=True)
        raise typer.Exit(2) from exc
    vehicle = Vehicle(spec, seed=seed)
    vehicle.dtcs = list(codes)
    car = RealtimeVehicle(vehicle, speeds, speedup=speedup)
    faults = AdapterFaults(
        FaultConfig(
            no_data_probability=no_data_prob,
            can_error_probability=can_error_prob,
            disconnect_probability=disconnect_prob,
            seed=seed,
        )
    )
    elm = Elm327(
        _OnBus(car, protocol),
        protocol=protocol,
        latency_s=latency_ms / 1000.0,
        clone=clone,
        faults=faults,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    car.start()
    port: PtyDongle | TcpDongle = (
        PtyDongle(elm, baud=baud) if pty else TcpDongle(elm, port=tcp or 0, baud=baud)
    )
    try:
        # First line of stdout is the device path or host:port: scripts and tests read it.
        print(port.path if isinstance(port, PtyDongle) else port.address, flush=True)
        print(f"VIN {spec.vin}, bus {protocol}, speedup {speedup}", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        port.close()
        car.stop()
