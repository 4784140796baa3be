# SPDX-License-Identifier: MIT
"""``wrenchlight bench streams``: ``/healthz`` latency while many live event streams are open.

Issue 15 found eight concurrent ``GET /events`` froze the API (each stream held a pooled
connection while asking for another). This benchmark opens ``--streams`` streams at once, each
of its own owner (API keys, so every stream is authenticated and checked per event), while a
producer writes ``--events-per-s`` events into the outbox for their cars; it measures
``/healthz`` by one client for ``--seconds`` with no stream open and with all of them open,
and how long an event takes from its commit to each stream that may see it.

Target: ``/healthz`` p99 ≤ 100 ms with 32 streams open.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from contextlib import ExitStack
from typing import Annotated, Any

import typer
from psycopg.types.json import Jsonb

from benchmarks.api import load, served
from benchmarks.host import host_of
from db.rows import scalar

TARGET_HEALTHZ_P99_MS = 100.0


def _owners(conn: Any, n: int) -> list[tuple[int, dict[str, str]]]:
    """``n`` owners with a car each: (vehicle id, API key headers)."""
    from api.auth.keys import create_key
    from api.auth.users import create_user

    owners = []
    for i in range(n):
        user = create_user(conn=conn, email=f"owner-{i}@bench.test", role="owner")
        vehicle = scalar(
            conn,
            "INSERT INTO vehicles (vin, owner_user_id) VALUES (%s, %s) RETURNING vehicle_id",
            (f"WLS{i:014d}", user),
        )
        owners.append((int(vehicle), {"X-API-Key": create_key(conn=conn, user_id=user).key}))
    return owners


def _produce(url: str, vehicles: list[int], per_s: float, stop: threading.Event) -> dict:
    """Insert an alert event per tick, round robin over ``vehicles``; commit time per event."""
    import db

    sent: dict[int, float] = {}
    with db.connect(url, autocommit=True) as conn:
        i = 0
        while not stop.wait(1 / per_s):
            vehicle = vehicles[i % len(vehicles)]
            conn.execute(
                "INSERT INTO outbox (event_type, vehicle_id, payload) "
                "VALUES ('alert.raised', %s, %s)",
                (vehicle, Jsonb({"alert_id": i, "vehicle_id": vehicle, "kind": "bench"})),
            )
            sent[i] = time.monotonic()
            i += 1
    return sent


def _listen(base: str, headers: dict[str, str], ready: threading.Semaphore, out: dict) -> None:
    """One stream: its status, and when each event arrived (by the bench's alert id)."""
    import httpx2

    got: dict[int, float] = {}
    out["received"] = got
    try:
        with (
            httpx2.Client(timeout=httpx2.Timeout(30, read=None)) as http,
            http.stream("GET", f"{base}/events", headers=headers) as response,
        ):
            out["status"] = response.status_code
            ready.release()
            for line in response.iter_lines():
                if line.startswith("data:"):
                    got[json.loads(line[5:])["data"]["alert_id"]] = time.monotonic()
    except httpx2.HTTPError as exc:  # closed by the bench at the end, or refused
        out.setdefault("status", repr(exc))
        ready.release()


def bench_streams(
    ctx: typer.Context,
    streams: Annotated[int, typer.Option(min=1, help="Event streams open at once.")] = 32,
    events_per_s: Annotated[float, typer.Option(min=0.5, help="Events written per second.")] = 20,
    seconds: Annotated[float, typer.Option(min=0.5, help="Seconds per measurement.")] = 10.0,
    api_workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """/healthz p50/p99 with no stream and with ``--streams`` streams open; event latency."""
    import db

    host = host_of(ctx)
    report: dict[str, Any] = {"machine_load_1m": round(os.getloadavg()[0], 2)}
    with ExitStack() as stack:
        url = host.database(stack)
        with db.connect(url, autocommit=True) as conn:
            owners = _owners(conn, streams)
        port = host.free_port()
        server, base = served(stack, url, api_workers, port)

        def healthz(_: Any) -> tuple[str, dict[str, str]]:
            return "/healthz", {}

        report["healthz_no_streams"] = load(base, healthz, 1, seconds)
        ready = threading.Semaphore(0)
        outs: list[dict] = [{} for _ in owners]
        opened_at = time.monotonic()
        listeners = [
            threading.Thread(target=_listen, args=(base, h, ready, out), daemon=True)
            for (_, h), out in zip(owners, outs, strict=True)
        ]
        for t in listeners:
            t.start()
        for _ in listeners:
            ready.acquire(timeout=60)
        report["streams_open_s"] = round(time.monotonic() - opened_at, 2)
        statuses = [o.get("status") for o in outs]
        if statuses != [200] * streams:
            raise RuntimeError(f"not every stream opened: {statuses}")
        stop = threading.Event()
        produced: dict[str, dict[int, float]] = {}
        producer = threading.Thread(
            target=lambda: produced.update(
                sent=_produce(url, [v for v, _ in owners], events_per_s, stop)
            )
        )
        producer.start()
        report["healthz_with_streams"] = load(base, healthz, 1, seconds)
        stop.set()
        producer.join()
        time.sleep(2.0)  # the last events reach their streams
        server.terminate()  # ends the streams
        for t in listeners:
            t.join(timeout=10)
    sent = produced["sent"]
    delays = sorted(
        (at - sent[i]) * 1000 for out in outs for i, at in out["received"].items() if i in sent
    )
    cuts = statistics.quantiles(delays, n=100, method="inclusive") if len(delays) > 1 else [0] * 99
    report.update(
        streams=streams,
        api_workers=api_workers,
        seconds=seconds,
        events_written=len(sent),
        events_delivered=len(delays),
        # Each event is its car's owner's only: one delivery per event is complete.
        event_delivery_ms={"p50": round(cuts[49], 1), "p99": round(cuts[98], 1)},
        target_healthz_p99_ms=TARGET_HEALTHZ_P99_MS,
        target_met=report["healthz_with_streams"]["p99_ms"] <= TARGET_HEALTHZ_P99_MS,
        every_event_delivered=len(delays) == len(sent),
    )
    for name in ("healthz_no_streams", "healthz_with_streams"):
        r = report[name]
        typer.echo(
            f"{name}: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms, "
            f"{r['requests']} requests",
            err=True,
        )
    typer.echo(
        f"{streams} streams open in {report['streams_open_s']} s; events {len(delays)}/"
        f"{len(sent)} delivered, p50 {cuts[49]:.0f} ms, p99 {cuts[98]:.0f} ms",
        err=True,
    )
    if as_json:
        typer.echo(json.dumps(report))
    if len(delays) != len(sent):
        typer.echo(f"error: {len(sent) - len(delays)} events never reached their stream", err=True)
        raise typer.Exit(1)
