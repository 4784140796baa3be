# SPDX-License-Identifier: MIT
"""``wrenchlight bench codec``: wire size and codec speed, binary batch vs JSON batch vs one JSON
message per sample, on the same simulated driving."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Annotated, Any

import numpy as np
import typer

from benchmarks.host import Host, host_of


def codec_figures(host: Host, batches: int = 300) -> dict[str, Any]:
    """Size and speed of the three encodings on the same simulated batches."""
    from firmware_sim.cycles import load_cycle
    from firmware_sim.vehicle import Vehicle, VehicleSpec
    from telemetry import decode, encode

    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    trace = Vehicle(VehicleSpec(vin="1HGCM82633A004352")).drive(
        np.tile(load_cycle("udds"), 4), start=start
    )
    data = list(host.trace_batches(trace, device_id="bench", window_s=60))
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


def bench_codec(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Wire size and codec speed: binary batch vs JSON batch vs one JSON message per sample."""
    figures = codec_figures(host_of(ctx))
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
