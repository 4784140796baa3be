# SPDX-License-Identifier: MIT
"""End-to-end ingest benchmark: the naive way, ours, and the physical limit, on the same rows.

The caller (``wrenchlight bench ingest``) simulates a fleet and feeds its batches to a
``WorkloadBuilder``; everything is encoded before any clock starts. Then, in one run:

1. **naive** — one JSON message per sample published through the broker (QoS 1) to a
   subscriber in its own process that does one autocommitted ``INSERT`` per row;
2. **ours** — the binary batches published (QoS 1, many in flight) to real ``IngestWorker``
   processes (spawned, so they inherit none of the pre-generated data), timed from the first
   publish until the worker's ``on_commit`` hook reports the last batch committed;
3. **limit** — a binary ``COPY`` of the same rows straight into ``readings``, the COPY stream
   pre-encoded with numpy, so only the database's work (and the socket) is timed;
4. **latency** — ours again, publishing paced at a fraction of ours' measured rate; per batch
   latency = commit wall time (``on_commit``) − publish wall time, matched by (device, seq).

Every competitor starts from emptied ingest tables (``INGEST_TABLES``) after a ``CHECKPOINT``.
Publishers keep at most a window of batches published but not yet committed, so no broker
queue limit (Mosquitto's ``max_queued_messages`` defaults to 1000) drops anything.

The parts, one idea a module: ``workload`` (the pre-generated data), ``phase`` (the same start
for every phase), ``pgcopy`` (binary COPY streams), ``publisher`` (MQTT), ``cpu`` (CPU and RSS
accounting), ``naive``, ``workers`` and ``ours``, ``limit`` (the competitors), ``suite`` (all
of them in turn). ``layout`` is the other benchmark, ``wrenchlight bench layout``.
"""

from __future__ import annotations

from benchmarks.ingest.limit import run_limit
from benchmarks.ingest.naive import run_naive
from benchmarks.ingest.ours import run_ours
from benchmarks.ingest.phase import Progress
from benchmarks.ingest.suite import TARGETS, run_all
from benchmarks.ingest.workload import Workload, WorkloadBuilder, register

__all__ = [
    "TARGETS",
    "Progress",
    "Workload",
    "WorkloadBuilder",
    "register",
    "run_all",
    "run_limit",
    "run_naive",
    "run_ours",
]
