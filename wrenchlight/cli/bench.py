# SPDX-License-Identifier: MIT
"""``wrenchlight bench``: the benchmarks of the source checkout, with the services they run on.

The benchmarks live in the top-level ``benchmarks`` package, which the wheel does not ship: it
is imported here only when the command line is assembled, and when it is missing (an installed
wheel) ``bench`` says to run them from a source checkout instead. This module is the
benchmarks' host (``benchmarks.host.Host``): the database, the broker and the simulated feed
come from the settings and the embedded services, as for every other command.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import typer

from wrenchlight.cli.common import err, settings_of
from wrenchlight.settings import Settings

if TYPE_CHECKING:
    from telemetry import Batch

HELP = "Benchmarks: our way vs the naive way vs the physical limit."
MISSING = (
    "benchmarks run from a source checkout: this installation has no `benchmarks` package "
    "(clone the repository and run `make bench`, or `wrenchlight bench ...` from its venv)"
)


class BenchHost:
    """The services of a benchmark run, from this command line's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def database(self, stack: ExitStack, *, migrate: bool = True) -> str:
        """A fresh database for one benchmark run, dropped afterwards on a configured server.

        A configured ``WRENCHLIGHT_DATABASE_URL`` only names the server: the benchmark
        truncates what it writes between competitors, so it never runs in that database itself.
        """
        import db
        from wrenchlight.services import database, lock_data_dir

        if self.settings.database_url:
            url = _scratch_database(self.settings.database_url, stack)
        else:
            lock_data_dir(self.settings, stack, "bench")
            url = database(self.settings, stack, "wrenchlight_bench", fresh=True)
        if migrate:
            db.upgrade(url)
        return url

    def broker(self, stack: ExitStack) -> str:
        """The configured broker, or an embedded one for this run."""
        if self.settings.mqtt_url:
            return self.settings.mqtt_url
        return self.embedded_broker(stack)

    def embedded_broker(self, stack: ExitStack) -> str:
        """An embedded broker of this run's own, stopped when ``stack`` closes."""
        from wrenchlight.embedded import EmbeddedBroker

        broker = EmbeddedBroker()
        url = broker.start()
        stack.callback(broker.stop)
        return url

    def free_port(self) -> int:
        """A TCP port free on this machine now."""
        from wrenchlight.embedded import free_port

        return free_port()

    def trace_batches(
        self, trace: Any, *, device_id: str, window_s: int | None = None
    ) -> Iterator[Batch]:
        """The accelerated feed's batches of one simulated trip (``wrenchlight.feed``)."""
        from wrenchlight.feed import Sampling, trace_batches

        sampling = Sampling() if window_s is None else Sampling(window_s=window_s)
        return trace_batches(trace, device_id=device_id, sampling=sampling)


def _scratch_database(server: str, stack: ExitStack) -> str:
    """A database of its own on the configured ``server``, dropped when ``stack`` closes."""
    import psycopg
    from psycopg import sql

    from db.migrate import with_database

    name = f"wl_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(server, autocommit=True) as conn:
            for attempt in range(5):
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    break
                except psycopg.errors.ObjectInUse:  # template1 busy: another CREATE
                    if attempt == 4:
                        raise
                    time.sleep(0.5 * (attempt + 1))
    except psycopg.Error as exc:
        raise typer.BadParameter(
            f"cannot create a bench database on the configured server ({exc}); the "
            "benchmark needs CREATEDB and never writes into the configured database"
        ) from exc

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    stack.callback(drop)
    return with_database(server, name)


def _host(ctx: typer.Context) -> None:
    # The benchmarks read their host from the context (benchmarks.host.host_of).
    ctx.obj = BenchHost(settings_of(ctx))


def _missing(ctx: typer.Context) -> None:
    """Benchmarks: our way vs the naive way vs the physical limit (from a source checkout)."""
    err.print(f"[red]error:[/] {MISSING}", soft_wrap=True)
    raise typer.Exit(2)


def add_to(root: typer.Typer) -> None:
    """Add the ``bench`` group to ``root``: every benchmark, or the one line saying where they
    run when this installation has none."""
    try:
        from benchmarks.commands import COMMANDS
    except ModuleNotFoundError as exc:
        if exc.name not in ("benchmarks", "benchmarks.commands"):
            raise
        # Whatever follows `bench` (a benchmark's name, its options) gets the same answer.
        root.command(
            "bench",
            help=f"{HELP} They run from a source checkout (`make bench`); this installation "
            "has none.",
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(_missing)
        return
    app = typer.Typer(help=HELP, no_args_is_help=True)
    app.callback()(_host)
    for name, command in COMMANDS.items():
        app.command(name)(command)
    root.add_typer(app, name="bench")
