# SPDX-License-Identifier: MIT
"""Spawned processes running real ``IngestWorker``s, and the commits they report back."""

from __future__ import annotations

import cProfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.queues import Queue as MpQueue
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

import numpy as np

from benchmarks.ingest.cpu import peak_rss_mb, thread_cpu
from benchmarks.ingest.phase import STALL_S, START_TIMEOUT_S


@dataclass(frozen=True)
class WorkerSpec:
    """What one spawned ingest worker needs; plain data that pickles."""

    database_url: str
    mqtt_url: str
    client_id: str
    group: str
    profile_path: str | None = None


def worker_process(spec: WorkerSpec, out: MpQueue[Any], ready: MpEvent, stop: MpEvent) -> None:
    """A spawned process running one real ``IngestWorker``; commits are reported on ``out``."""
    from ingest import writer
    from ingest.consumer import IngestWorker
    from ingest.message import Outcome

    profiler: cProfile.Profile | None = None
    if spec.profile_path:
        # Ad hoc: the writer thread's whole life under cProfile (it only sees its own thread).
        profiler = cProfile.Profile()
        run = writer.Writer._run

        def profiled(self: writer.Writer) -> None:
            assert profiler is not None
            profiler.runcall(run, self)

        writer.Writer._run = profiled  # type: ignore[method-assign]

    def on_commit(outcomes: list[Outcome], committed_at: float) -> None:
        out.put(
            (
                "commit",
                committed_at,
                [(o.device_id, o.seq, o.status, o.samples) for o in outcomes],
            )
        )

    worker = IngestWorker(
        spec.database_url,
        spec.mqtt_url,
        client_id=spec.client_id,
        group=spec.group,
        session_expiry_s=0,
        on_commit=on_commit,
    )
    worker.start()
    ready.set()
    stop.wait()
    cpu = thread_cpu()
    worker.stop()
    if profiler is not None and spec.profile_path:
        profiler.dump_stats(spec.profile_path)
    out.put(("final", spec.client_id, {"peak_rss_mb": round(peak_rss_mb(), 1), "cpu_s": cpu}))
    out.close()
    out.join_thread()


@dataclass
class Commits:
    """What the workers reported, gathered by a thread of the benchmark process."""

    keys: dict[tuple[str, int], int]  # (device, seq) → batch index
    committed_at: np.ndarray = field(init=False)
    done: int = 0
    samples: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    foreign: int = 0
    last_commit: float = 0.0
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.committed_at = np.full(len(self.keys), np.nan)

    def drain(self, queue: MpQueue[Any]) -> None:
        """Take in what the workers put on ``queue`` until a ``None`` (a thread's whole life)."""
        while True:
            item = queue.get()
            if item is None:
                return
            if item[0] == "final":
                with self.cond:
                    self.finals[item[1]] = item[2]
                    self.cond.notify_all()
                continue
            _, committed_at, outcomes = item
            with self.cond:
                for device_id, seq, status, samples in outcomes:
                    index = self.keys.get((device_id, seq)) if seq is not None else None
                    if index is None:
                        self.foreign += 1  # someone else's message on a shared broker
                        continue
                    if not np.isnan(self.committed_at[index]):
                        continue
                    self.committed_at[index] = committed_at
                    self.done += 1
                    if status == "stored":
                        self.samples += samples
                    elif status == "duplicate":
                        self.duplicates += 1
                    else:
                        self.dead_letters += 1
                self.last_commit = max(self.last_commit, committed_at)
                self.cond.notify_all()

    def wait_done(self, at_least: int, what: str, tick: Callable[[], object] | None = None) -> None:
        """Block until ``at_least`` batches are done; raise if none is for STALL_S."""
        with self.cond:
            seen, since = self.done, time.monotonic()
            while self.done < at_least:
                self.cond.wait(0.25)
                if tick is not None:
                    tick()
                if self.done != seen:
                    seen, since = self.done, time.monotonic()
                elif time.monotonic() - since > STALL_S:
                    raise RuntimeError(
                        f"ingest stalled while {what}: {self.done} of {len(self.keys)} batches "
                        f"committed, nothing for {STALL_S:.0f} s"
                    )


class Workers:
    """Spawned ingest worker processes and the thread collecting their commits."""

    def __init__(
        self,
        ctx: SpawnContext,
        specs: list[WorkerSpec],
        commits: Commits,
    ) -> None:
        self.commits = commits
        self.queue: MpQueue[Any] = ctx.Queue()
        self.stop = ctx.Event()
        self.readies = [ctx.Event() for _ in specs]
        self.procs: list[SpawnProcess] = [
            ctx.Process(
                target=worker_process,
                args=(spec, self.queue, ready, self.stop),
                name=f"bench-{spec.client_id}",
                daemon=True,
            )
            for spec, ready in zip(specs, self.readies, strict=True)
        ]
        self._collector = threading.Thread(
            target=commits.drain, args=(self.queue,), name="bench-commits", daemon=True
        )

    def start(self) -> None:
        for proc in self.procs:
            proc.start()
        self._collector.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        for proc, ready in zip(self.procs, self.readies, strict=True):
            while not ready.wait(0.2):
                if not proc.is_alive():
                    raise RuntimeError(f"ingest worker {proc.name} exited with {proc.exitcode}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"ingest worker {proc.name} not subscribed in time")

    def close(self) -> dict[str, dict[str, Any]]:
        """Stop the workers (they report peak RSS and CPU) and wait for them."""
        self.stop.set()
        with self.commits.cond:
            self.commits.cond.wait_for(
                lambda: (
                    len(self.commits.finals) >= len(self.procs)
                    or not any(p.is_alive() for p in self.procs)
                ),
                timeout=60,
            )
        for proc in self.procs:
            if proc.pid is None:  # never started
                continue
            proc.join(30)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self.queue.put(None)
        self._collector.join(10)
        self.queue.close()
        self.queue.join_thread()
        return dict(self.commits.finals)
