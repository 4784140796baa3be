# SPDX-License-Identifier: MIT
"""``wrenchlight edge``: the agent beside the dongle (device side: imports no cloud part)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Annotated, cast

import typer

from wrenchlight.cli.common import err, require_mqtt, settings_of


def edge(
    ctx: typer.Context,
    adapter: Annotated[
        str, typer.Option(help="Serial device, rfcomm device or socket://host:port.")
    ],
    device_id: Annotated[str, typer.Option(help="This device's id (its MQTT topic tree).")],
    mqtt: Annotated[
        str | None,
        typer.Option(help="mqtt[s]://user:pass@host:port (default: WRENCHLIGHT_MQTT_URL)."),
    ] = None,
    buffer: Annotated[
        Path, typer.Option(help="SQLite file holding unacknowledged batches.")
    ] = Path("wrenchlight-edge.db"),
    baudrate: Annotated[int, typer.Option(help="Adapter baud rate.")] = 38400,
    buffer_max_mb: Annotated[
        float, typer.Option(min=1, help="Size limit of the on-disk buffer.")
    ] = 256.0,
    when_full: Annotated[
        str, typer.Option(help="drop_oldest (default) or drop_newest when the buffer is full.")
    ] = "drop_oldest",
    ca_file: Annotated[
        Path | None, typer.Option(help="CA certificate to verify an mqtts:// broker with.")
    ] = None,
    cert: Annotated[Path | None, typer.Option(help="Device client certificate (mqtts).")] = None,
    key: Annotated[Path | None, typer.Option(help="Private key of --cert.")] = None,
    batch_window_s: Annotated[float, typer.Option(help="Seconds of samples per batch.")] = 60.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print counters as JSON at exit.")
    ] = False,
) -> None:
    """Read a vehicle through an ELM327 adapter and publish its data until interrupted."""
    import signal as sig

    if "numpy" not in sys.modules:
        # python-OBD's unit library (pint) loads numpy when it is installed, some 20 MB of
        # memory the agent never uses; pint works without it.
        sys.modules["numpy"] = None  # type: ignore[assignment]
    from edge_agent.agent import EdgeAgent
    from edge_agent.obd_link import ObdLink
    from edge_agent.outbox import Outbox, WhenFull
    from edge_agent.publisher import Publisher

    # The agent buffers on disk while the broker is away: no reachability check here.
    url = mqtt or require_mqtt(settings_of(ctx), reachable=False)
    if when_full not in ("drop_oldest", "drop_newest"):
        err.print(f"[red]--when-full must be drop_oldest or drop_newest, not {when_full!r}[/]")
        raise typer.Exit(2)
    outbox = Outbox(
        buffer, max_bytes=int(buffer_max_mb * 2**20), when_full=cast(WhenFull, when_full)
    )
    publisher = Publisher(
        mqtt_url=url,
        device_id=device_id,
        outbox=outbox,
        ca_file=str(ca_file) if ca_file else None,
        cert_file=str(cert) if cert else None,
        key_file=str(key) if key else None,
    )
    stop = threading.Event()
    for s in (sig.SIGINT, sig.SIGTERM):
        sig.signal(s, lambda *_: stop.set())
    publisher.start()
    agent = EdgeAgent(
        link=ObdLink(adapter, baudrate=baudrate),
        publisher=publisher,
        device_id=device_id,
        batch_window_s=batch_window_s,
    )
    stats = agent.run(stop)
    publisher.wait_drained(timeout=10)
    publisher.stop()
    summary = {
        "device_id": device_id,
        "vin": stats.vin,
        "polls": stats.polls,
        "samples": stats.samples,
        "batches": stats.batches,
        "unacknowledged": len(outbox),
        "dropped": outbox.dropped,
    }
    outbox.close()
    typer.echo(
        json.dumps(summary) if as_json else "  ".join(f"{k}={v}" for k, v in summary.items())
    )
