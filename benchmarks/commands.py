# SPDX-License-Identifier: MIT
"""Every benchmark's command, in the order ``wrenchlight bench --help`` lists them.

``wrenchlight bench`` adds these to its group when this package is importable (a source
checkout); each takes its services from the group's ``benchmarks.host.Host``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from benchmarks.api import bench_api
from benchmarks.codec import bench_codec
from benchmarks.edge import bench_edge
from benchmarks.ingest.commands import bench_ingest, bench_layout
from benchmarks.matching import bench_matching
from benchmarks.predictive import bench_predictive
from benchmarks.sim import bench_sim
from benchmarks.streams import bench_streams
from benchmarks.web import bench_web


def bench_all(ctx: typer.Context) -> None:
    """Every benchmark in turn."""
    bench_codec(ctx, as_json=False)
    bench_sim(vehicles=500, days=2, as_json=False)
    bench_ingest(ctx)
    bench_layout(ctx)
    bench_matching(ctx, shops=50_000, queries=1000, seed=0, as_json=False)


COMMANDS: dict[str, Callable[..., Any]] = {
    "codec": bench_codec,
    "sim": bench_sim,
    "ingest": bench_ingest,
    "layout": bench_layout,
    "all": bench_all,
    "api": bench_api,
    "streams": bench_streams,
    "web": bench_web,
    "edge": bench_edge,
    "matching": bench_matching,
    "predictive": bench_predictive,
}
