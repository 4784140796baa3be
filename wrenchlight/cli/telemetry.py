# SPDX-License-Identifier: MIT
"""``wrenchlight telemetry``: inspect wire payloads (device side: light to import)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from wrenchlight.cli.common import err

app = typer.Typer(help="Inspect wire payloads.", no_args_is_help=True)


@app.command("decode")
def telemetry_decode(
    pretty: Annotated[bool, typer.Option(help="Indent the JSON.")] = True,
) -> None:
    """Read one payload (binary or JSON) on stdin and print it as JSON; exit 1 if invalid."""
    from telemetry import DecodeError, decode, encode

    try:
        batch = decode(sys.stdin.buffer.read())
    except DecodeError as exc:
        err.print(f"[red]invalid payload:[/] {exc}")
        raise typer.Exit(1) from exc
    doc = json.loads(encode(batch, "json"))
    typer.echo(json.dumps(doc, indent=2 if pretty else None))
