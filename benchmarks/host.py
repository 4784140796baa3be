# SPDX-License-Identifier: MIT
"""What a benchmark asks of the program that runs it: a database, a broker, a free port, and
the edge agent's batching of a simulated trip.

The benchmarks sit below the command line (``wrenchlight bench``), which provides these from
its settings and embedded services; a benchmark never imports ``wrenchlight`` itself, so the
command line can run without this package (an installed wheel) and this package stays one
room.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Protocol

import typer

if TYPE_CHECKING:
    from telemetry import Batch


class Host(Protocol):
    """The services of one benchmark run; each lives until ``stack`` closes."""

    def database(self, stack: ExitStack, *, migrate: bool = True) -> str:
        """A fresh database for this run (migrated unless told not to), dropped afterwards."""
        ...

    def broker(self, stack: ExitStack) -> str:
        """The configured broker, or an embedded one started for this run."""
        ...

    def embedded_broker(self, stack: ExitStack) -> str:
        """A broker of this run's own, whatever is configured."""
        ...

    def free_port(self) -> int:
        """A TCP port free on this machine now."""
        ...

    def trace_batches(
        self, trace: Any, *, device_id: str, window_s: int | None = None
    ) -> Iterator[Batch]:
        """A simulated trip cut into wire batches as the edge agent would send them."""
        ...


def host_of(ctx: typer.Context) -> Host:
    """The host the ``bench`` group put into the command's context."""
    host: Host = ctx.obj
    return host
