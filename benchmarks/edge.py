# SPDX-License-Identifier: MIT
"""``wrenchlight bench edge``: reading a slow adapter, side by side in one run.

Competitors on the same simulated adapter (ELM327 with a per-request ECU latency and a serial
line speed, CAN 11/500): python-OBD with one PID per query, python-OBD's own "fast" mode,
python-OBD ``Async``, and our agent's link (up to six PIDs per request); the physical limit
is what the adapter could deliver if every request carried six PIDs and nothing else waited.
Then the wire size of a 10 s batch, and the agent's memory and CPU as a separate process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from benchmarks.host import Host, host_of

ALL_SIGNALS = (
    "speed_kmh", "engine_rpm", "engine_load_pct", "throttle_pct", "coolant_temp_c",
    "oil_temp_c", "ambient_temp_c", "fuel_level_pct", "module_voltage_v", "odometer_km",
)  # fmt: skip


def _dongle(latency_s: float, baud: int) -> Any:
    from firmware_sim.elm327 import Elm327
    from firmware_sim.static_reader import StaticReader, running_state
    from firmware_sim.transport import PtyDongle
    from firmware_sim.vehicle import EcuSnapshot

    snap = EcuSnapshot(
        vin="1FTFW1ET5DFC10312", state=running_state(), supports_odometer_pid=True, dtcs=()
    )
    return PtyDongle(Elm327(StaticReader(snap), latency_s=latency_s), baud=baud)


def _rate(run_once: Any, seconds: float) -> float:
    """Signals per second delivered by repeated calls of ``run_once`` (returns a count)."""
    got, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        got += run_once()
    return got / (time.perf_counter() - start)


def _python_obd(path: str, baud: int, seconds: float, *, fast: bool) -> float:
    import obd

    from edge_agent.obd_link import SIGNAL_COMMANDS

    conn = obd.OBD(path, baudrate=baud, fast=fast, timeout=2, check_voltage=False)
    cmds = [SIGNAL_COMMANDS[s][0] for s in ALL_SIGNALS]
    try:
        return _rate(lambda: sum(not conn.query(c, force=True).is_null() for c in cmds), seconds)
    finally:
        conn.close()


def _python_obd_async(path: str, baud: int, seconds: float) -> float:
    import obd

    from edge_agent.obd_link import SIGNAL_COMMANDS

    conn = obd.Async(path, baudrate=baud, fast=False, timeout=2, check_voltage=False, delay_cmds=0)
    count = [0]
    lock = threading.Lock()

    def seen(response: Any) -> None:
        if not response.is_null():
            with lock:
                count[0] += 1

    for name in ALL_SIGNALS:
        conn.watch(SIGNAL_COMMANDS[name][0], callback=seen, force=True)
    conn.start()
    time.sleep(seconds)
    conn.stop()
    conn.close()
    return count[0] / seconds


def _ours(path: str, baud: int, seconds: float) -> float:
    from edge_agent.obd_link import ObdLink

    link = ObdLink(path, baudrate=baud)
    link.connect()
    try:
        return _rate(lambda: len(link.read(list(ALL_SIGNALS))), seconds)
    finally:
        link.close()


def _wire_bytes() -> dict[str, float]:
    from firmware_sim.static_reader import running_state
    from telemetry import Batch, Series, encode
    from telemetry.signals import SIGNALS

    resolution = {s.name: s.resolution for s in SIGNALS}
    state = running_state()
    t0 = 1_763_700_000_000
    series = tuple(
        Series(
            name,
            tuple(i * 1000 for i in range(10)),
            tuple(float(getattr(state, name)) + 0.5 * i * resolution[name] for i in range(10)),
        )
        for name in ALL_SIGNALS
    )
    batch = Batch("car-1", 1, "1FTFW1ET5DFC10312", t0, series)
    naive = sum(
        len(
            json.dumps(
                {"device_id": "car-1", "vin": batch.vin, "time_ms": t, "signal": s, "value": v}
            )
        )
        for t, s, v in batch.samples()
    )
    n = batch.sample_count
    return {
        "ours_bytes_per_sample": round(len(encode(batch)) / n, 2),
        "naive_json_bytes_per_sample": round(naive / n, 2),
    }


def _agent_resources(host: Host, latency_ms: float, baud: int, seconds: float) -> dict[str, float]:
    """RSS and CPU of a real ``wrenchlight edge`` process polling 10 signals at 1 Hz."""
    exe = str(Path(sys.executable).parent / "wrenchlight")
    with ExitStack() as stack:
        url = host.embedded_broker(stack)
        return _measure_agent(exe, url, latency_ms, baud, seconds)


def _measure_agent(
    exe: str, url: str, latency_ms: float, baud: int, seconds: float
) -> dict[str, float]:
    """Start a dongle and an agent publishing to ``url``; sample the agent's RSS and CPU."""
    import paho.mqtt.client as mqtt
    import psutil
    from paho.mqtt.enums import CallbackAPIVersion

    from telemetry import topics

    dongle = subprocess.Popen(
        [exe, "sim", "dongle", "--pty", "--latency-ms", str(latency_ms), "--baud", str(baud)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    path = dongle.stdout.readline().strip() if dongle.stdout else ""
    config = {"version": 1, "fast": list(ALL_SIGNALS), "slow": [], "fast_period_s": 1.0}
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", urlsplit(url).port or 1883)
    pub.loop_start()
    pub.publish(
        topics.topic("bench-edge", "config"), json.dumps(config), qos=1, retain=True
    ).wait_for_publish(5)
    edge = subprocess.Popen(
        [
            exe,
            "edge",
            "--adapter",
            path,
            "--mqtt",
            url,
            "--device-id",
            "bench-edge",
            "--buffer",
            ":memory:",
            "--batch-window-s",
            "10",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc = psutil.Process(edge.pid)
        time.sleep(8)  # start-up: imports, adapter initialisation, first batch
        proc.cpu_percent(None)
        time.sleep(seconds)
        cpu = proc.cpu_percent(None)
        rss_mb = proc.memory_info().rss / 2**20
    finally:
        edge.terminate()
        edge.wait(timeout=20)
        dongle.terminate()
        dongle.communicate(timeout=10)
        pub.loop_stop()
    return {"agent_rss_mb": round(rss_mb, 1), "agent_cpu_pct_of_one_core": round(cpu, 2)}


def bench_edge(
    ctx: typer.Context,
    latency_ms: Annotated[float, typer.Option(help="ECU latency per OBD request.")] = 40.0,
    baud: Annotated[int, typer.Option(help="Adapter serial speed.")] = 38400,
    seconds: Annotated[float, typer.Option(help="Measuring time per competitor.")] = 8.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Signals/s from a slow adapter: python-OBD (sequential, fast, Async) vs our agent."""
    results: dict[str, Any] = {"latency_ms": latency_ms, "baud": baud, "protocol": "CAN 11/500"}
    for name, run in (
        ("python_obd_sequential", lambda p: _python_obd(p, baud, seconds, fast=False)),
        ("python_obd_fast", lambda p: _python_obd(p, baud, seconds, fast=True)),
        ("python_obd_async", lambda p: _python_obd_async(p, baud, seconds)),
        ("ours_multi_pid", lambda p: _ours(p, baud, seconds)),
    ):
        dongle = _dongle(latency_ms / 1000, baud)
        try:
            results[name] = round(run(dongle.path), 1)
        finally:
            dongle.close()
    # Six PIDs per request: "01" + 6 PIDs + CR out, and about 30 bytes of framed reply back.
    request_s = latency_ms / 1000 + (15 + 30) * 10 / baud
    results["physical_limit"] = round(6 / request_s, 1)
    results["ours_vs_sequential"] = round(
        results["ours_multi_pid"] / results["python_obd_sequential"], 2
    )
    results.update(_wire_bytes())
    results.update(_agent_resources(host_of(ctx), latency_ms, baud, seconds=max(seconds, 15.0)))
    if as_json:
        typer.echo(json.dumps(results))
        return
    typer.echo(f"adapter: {latency_ms:.0f} ms per request, {baud} baud, CAN 11/500")
    for key in (
        "python_obd_sequential",
        "python_obd_fast",
        "python_obd_async",
        "ours_multi_pid",
        "physical_limit",
    ):
        typer.echo(f"  {key:<24} {results[key]:>8.1f} signals/s")
    typer.echo(f"  ours / python-OBD sequential: {results['ours_vs_sequential']}x")
    typer.echo(
        f"  wire: {results['ours_bytes_per_sample']} B/sample (10 s batch, 10 signals) vs "
        f"{results['naive_json_bytes_per_sample']} B/sample one JSON message per sample"
    )
    typer.echo(
        f"  agent process at 10 signals/s: {results['agent_rss_mb']} MB RSS, "
        f"{results['agent_cpu_pct_of_one_core']} % of one core"
    )
