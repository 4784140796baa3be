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
"""

from __future__ import annotations

import contextlib
import cProfile
import json
import multiprocessing as mp
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.queues import Queue as MpQueue
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from psycopg import sql

import db
from db import registry
from telemetry import SIGNALS, Batch, Signal, by_name, encode, topics
from telemetry.mqtt_url import MqttUrl

# (what is running, done, total): the caller draws progress bars from it.
Progress = Callable[[str, float, float], None]

COPY_SQL = "COPY readings (time, vehicle_id, signal_id, value) FROM STDIN (FORMAT BINARY)"
# PostgreSQL's binary COPY: signature, flags, header extension length; a -1 field count ends it.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
COPY_TRAILER = b"\xff\xff"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PG_EPOCH_MS = 946_684_800_000  # 2000-01-01 UTC, timestamptz's zero
# One readings row in binary COPY: field count, then (length, big-endian value) per column.
COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("time_len", ">i4"),
        ("time", ">i8"),
        ("vehicle_len", ">i4"),
        ("vehicle", ">i8"),
        ("signal_len", ">i4"),
        ("signal", ">i2"),
        ("value_len", ">i4"),
        ("value", ">f8"),
    ]
)
COPY_CHUNK_BYTES = 1 << 20
# Batches published but not yet committed. Each worker takes up to 1000 in flight (its Receive
# Maximum); 500 more may wait in the broker's queue for it while it commits.
OURS_WINDOW_PER_WORKER = 1500
# The naive subscriber's Receive Maximum and the publisher's window of unconsumed samples.
NAIVE_WINDOW = 500
# Publish QoS 1 with at most this many unacknowledged by the broker (less if it asks so).
PUBLISH_INFLIGHT = 1000
# A phase that makes no progress for this long has failed (a worker died, a broker dropped).
STALL_S = 60.0
START_TIMEOUT_S = 90.0
TARGETS = {
    "ours_over_naive_min": 30.0,
    "ours_over_limit_min": 0.5,
    "p99_commit_latency_s_max": 1.0,
    "worker_rss_mb_max": 300.0,
}


# --- the workload -------------------------------------------------------------------------


@dataclass
class Workload:
    """Pre-generated fleet data: encoded payloads and the same samples as columns of rows."""

    device_ids: list[str]
    vins: list[str]
    payloads: list[bytes]
    batch_device: np.ndarray  # int32, index into device_ids, per batch
    batch_seq: np.ndarray  # int64, per batch
    batch_samples: np.ndarray  # int64, per batch
    row_start: np.ndarray  # int64, first row of each batch, plus the total at the end
    time_ms: np.ndarray  # int64 unix ms, per row (one row per sample)
    row_device: np.ndarray  # int32, per row
    signal_id: np.ndarray  # int16, per row
    value: np.ndarray  # float64, as the codec delivers it (rounded to the signal's resolution)
    vehicle_ids: np.ndarray | None = None  # int64 per device, once registered

    @property
    def batches(self) -> int:
        return len(self.payloads)

    @property
    def samples(self) -> int:
        return int(self.row_start[-1])

    @property
    def payload_bytes(self) -> int:
        return sum(len(p) for p in self.payloads)

    def topic(self, batch: int) -> str:
        return topics.topic(self.device_ids[int(self.batch_device[batch])], "telemetry")

    def key(self, batch: int) -> tuple[str, int]:
        return self.device_ids[int(self.batch_device[batch])], int(self.batch_seq[batch])

    def row_vehicle(self) -> np.ndarray:
        if self.vehicle_ids is None:
            raise RuntimeError("register the workload's devices first")
        return self.vehicle_ids[self.row_device]


def quantise(values: np.ndarray, signal: Signal) -> np.ndarray:
    """Values as the binary codec delivers them: counts at the signal's resolution and back."""
    counts = np.round((values - signal.min) / signal.resolution)
    return np.asarray(np.round(signal.min + counts * signal.resolution, 6), dtype=np.float64)


class WorkloadBuilder:
    """Collects batches device by device, numbering each device's batches 0, 1, 2, … ."""

    def __init__(self) -> None:
        self._device_ids: list[str] = []
        self._vins: list[str] = []
        self._next_seq: list[int] = []
        self._payloads: list[bytes] = []
        self._batch_device: list[int] = []
        self._batch_seq: list[int] = []
        self._batch_samples: list[int] = []
        self._time: list[np.ndarray] = []
        self._device: list[np.ndarray] = []
        self._signal: list[np.ndarray] = []
        self._value: list[np.ndarray] = []

    def add_device(self, device_id: str, vin: str) -> int:
        self._device_ids.append(device_id)
        self._vins.append(vin)
        self._next_seq.append(0)
        return len(self._device_ids) - 1

    def add(self, device: int, batch: Batch) -> None:
        """Encode ``batch`` (its device must be ``device``) and keep its samples as rows."""
        if batch.device_id != self._device_ids[device]:
            raise ValueError(f"batch of {batch.device_id!r} added to {self._device_ids[device]!r}")
        seq = self._next_seq[device]
        self._next_seq[device] += 1
        self._payloads.append(encode(batch, seq=seq))
        n = 0
        for series in batch.series:
            signal = by_name(series.signal)
            assert signal is not None  # the Batch checked it
            count = len(series.values)
            self._time.append(np.asarray(series.offsets_ms, dtype=np.int64) + batch.base_time_ms)
            self._signal.append(np.full(count, signal.id, dtype=np.int16))
            self._value.append(quantise(np.asarray(series.values, dtype=np.float64), signal))
            self._device.append(np.full(count, device, dtype=np.int32))
            n += count
        self._batch_device.append(device)
        self._batch_seq.append(seq)
        self._batch_samples.append(n)

    def build(self) -> Workload:
        if not self._payloads:
            raise ValueError("the workload has no batches")
        samples = np.asarray(self._batch_samples, dtype=np.int64)
        return Workload(
            device_ids=list(self._device_ids),
            vins=list(self._vins),
            payloads=list(self._payloads),
            batch_device=np.asarray(self._batch_device, dtype=np.int32),
            batch_seq=np.asarray(self._batch_seq, dtype=np.int64),
            batch_samples=samples,
            row_start=np.concatenate([[0], np.cumsum(samples)]).astype(np.int64),
            time_ms=np.concatenate(self._time),
            row_device=np.concatenate(self._device),
            signal_id=np.concatenate(self._signal),
            value=np.concatenate(self._value),
        )


def register(conn: psycopg.Connection, workload: Workload) -> None:
    """A vehicle (with the batch VIN) and a device for every device of the workload."""
    ids = []
    for device_id, vin in zip(workload.device_ids, workload.vins, strict=True):
        vehicle_id = registry.create_vehicle(conn, vin=vin) if vin else _vehicle_without_vin(conn)
        registry.register_device(conn, device_id=device_id, vehicle_id=vehicle_id, firmware="bench")
        ids.append(vehicle_id)
    workload.vehicle_ids = np.asarray(ids, dtype=np.int64)


def _vehicle_without_vin(conn: psycopg.Connection) -> int:
    return registry.create_vehicle(conn, vin="WB" + uuid.uuid4().hex[:15].upper())


# Everything ingest writes (the tables that exist in this schema version are emptied).
INGEST_TABLES = (
    "readings",
    "batches",
    "vehicle_state",
    "dead_letters",
    "dtc_events",
    "vehicle_dtcs",
    "trips",
    "rollup_queue",
    "readings_1m",
    "readings_1h",
)


def reset(conn: psycopg.Connection) -> None:
    """Empty what ingest writes and checkpoint, so every competitor starts from the same state."""
    rows = conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
        "AND relkind IN ('r', 'p') AND relname = ANY(%s)",
        (list(INGEST_TABLES),),
    ).fetchall()
    conn.execute(
        sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(r[0]) for r in rows))
    )
    with contextlib.suppress(psycopg.Error):  # needs superuser or pg_checkpoint
        conn.execute("CHECKPOINT")


# --- the limit: binary COPY of the pre-encoded rows -----------------------------------------


def copy_rows(workload: Workload) -> np.ndarray:
    """Every row of the workload in PostgreSQL's binary COPY tuple format, as one array."""
    rows = np.empty(workload.samples, dtype=COPY_ROW)
    rows["fields"] = 4
    rows["time_len"] = 8
    rows["time"] = (workload.time_ms - PG_EPOCH_MS) * 1000  # microseconds since 2000
    rows["vehicle_len"] = 8
    rows["vehicle"] = workload.row_vehicle()
    rows["signal_len"] = 2
    rows["signal"] = workload.signal_id
    rows["value_len"] = 8
    rows["value"] = workload.value
    return rows


def copy_encoded(conn: psycopg.Connection, sql: str, data: np.ndarray | bytes) -> None:
    """One transaction, one COPY of an already encoded binary stream (without header/trailer)."""
    raw = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data.view(np.uint8)
    with conn.transaction(), conn.cursor() as cur, cur.copy(sql) as copy:
        copy.write(COPY_HEADER)
        for i in range(0, len(raw), COPY_CHUNK_BYTES):
            copy.write(raw[i : i + COPY_CHUNK_BYTES].data)
        copy.write(COPY_TRAILER)


def run_limit(database_url: str, workload: Workload) -> dict[str, Any]:
    """Binary COPY of every row straight into ``readings``: the database's own speed."""
    rows = copy_rows(workload)
    with db.connect(database_url, autocommit=True) as conn:
        reset(conn)
        started = time.perf_counter()
        copy_encoded(conn, COPY_SQL, rows)
        elapsed = time.perf_counter() - started
        stored = _one(conn, "SELECT count(*) FROM readings")
    if stored != workload.samples:
        raise RuntimeError(f"COPY stored {stored} rows, expected {workload.samples}")
    return {
        "samples": workload.samples,
        "seconds": round(elapsed, 3),
        "samples_per_s": round(workload.samples / elapsed),
        "copy_bytes_per_sample": COPY_ROW.itemsize,
    }


def _one(conn: psycopg.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0] or 0)


# --- MQTT helpers ----------------------------------------------------------------------------


def _mqtt_client(mqtt_url: str, client_id: str) -> tuple[mqtt.Client, MqttUrl]:
    broker = MqttUrl.parse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set()
    return client, broker


class Publisher:
    """One QoS 1 publishing connection, honouring the broker's Receive Maximum."""

    def __init__(self, mqtt_url: str, client_id: str, *, timeout_s: float = 30.0) -> None:
        self._lock = threading.Lock()
        self.published = 0
        self.acknowledged = 0
        self._receive_max = PUBLISH_INFLIGHT
        self._connect(mqtt_url, client_id, PUBLISH_INFLIGHT, timeout_s)
        if self._receive_max < PUBLISH_INFLIGHT:
            # paho cannot lower its in-flight limit once connected: connect again with it.
            self._client.disconnect()
            self._client.loop_stop()
            self._connect(mqtt_url, client_id, max(1, self._receive_max), timeout_s)

    def _connect(self, mqtt_url: str, client_id: str, inflight: int, timeout_s: float) -> None:
        self._client, broker = _mqtt_client(mqtt_url, client_id)
        self._client.max_inflight_messages_set(inflight)
        self._client.max_queued_messages_set(0)  # unbounded: the caller's window bounds it
        self._connected = threading.Event()
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish
        self._client.connect(broker.host, broker.port, keepalive=60, clean_start=True)
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self.close()
            raise TimeoutError(f"no connection to {broker} within {timeout_s} s")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            return
        self._receive_max = getattr(properties, "ReceiveMaximum", PUBLISH_INFLIGHT)
        self._connected.set()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            self.acknowledged += 1

    def publish(self, topic: str, payload: bytes) -> None:
        info = self._client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        self.published += 1

    def wait_acknowledged(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.acknowledged < self.published:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


# --- CPU and memory accounting -------------------------------------------------------------


def _proc_cpu_s(path: str) -> float | None:
    """utime + stime of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file, in seconds."""
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu_s() -> dict[str, float] | None:
    """CPU seconds of every core since boot: busy (user, system, interrupts), iowait, steal."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    values += [0] * (8 - len(values))
    user, nice, system, _idle, iowait, irq, softirq, steal = values[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return {
        "busy": (user + nice + system + irq + softirq) / tick,
        "iowait": iowait / tick,
        "steal": steal / tick,
    }


def _processes_cpu_s() -> dict[int, tuple[str, float]]:
    """Every visible process: pid → (what it is, CPU seconds so far)."""
    import psutil

    out = {}
    for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        times = proc.info.get("cpu_times")
        if times is None:
            continue
        cmdline = proc.info.get("cmdline") or []
        name = proc.info.get("name") or "?"
        if name == "postgres" and cmdline and ":" in cmdline[0]:
            # The process title: "postgres: 15/main: walwriter" or "…: user db host(port) idle".
            title = cmdline[0].split(":", 2)[-1].strip().split()
            name = "postgres " + (title[0] if len(title) < 3 else f"backend of {title[1]}")
        out[proc.pid] = (name, float(times.user + times.system))
    return out


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil  # not Linux: the current RSS is the best available

    return float(psutil.Process().memory_info().rss) / 2**20


def _broker_pids(mqtt_url: str) -> list[int]:
    """The local process listening on the broker's port, if it can be seen (CPU accounting)."""
    import psutil

    port = MqttUrl.parse(mqtt_url).port
    try:
        return sorted(
            {
                c.pid
                for c in psutil.net_connections(kind="tcp")
                if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
            }
        )
    except (psutil.Error, OSError):
        return []


@dataclass
class _CpuSnapshot:
    wall: float
    machine: dict[str, float] | None
    me: float
    backends: dict[int, float | None]
    brokers: dict[int, float | None]
    processes: dict[int, tuple[str, float]]

    @classmethod
    def take(cls, backends: Sequence[int], brokers: Sequence[int]) -> _CpuSnapshot:
        t = os.times()
        return cls(
            time.monotonic(),
            _machine_cpu_s(),
            t.user + t.system,
            {pid: _proc_cpu_s(f"/proc/{pid}/stat") for pid in backends},
            {pid: _proc_cpu_s(f"/proc/{pid}/stat") for pid in brokers},
            _processes_cpu_s(),
        )


def _delta(after: dict[int, float | None], before: dict[int, float | None]) -> float | None:
    """CPU used between the snapshots; a process missing before started in between."""
    total = 0.0
    for pid, value in after.items():
        start = before.get(pid, 0.0)
        if value is None or start is None:
            return None
        total += value - start
    return round(total, 2)


def _worker_backends(conn: psycopg.Connection) -> dict[int, str]:
    """The other sessions on this (private) bench database, the workers': pid → last query."""
    rows = conn.execute(
        "SELECT pid, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


# --- worker processes ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSpec:
    """What one spawned ingest worker needs; plain data that pickles."""

    database_url: str
    mqtt_url: str
    client_id: str
    group: str
    profile_path: str | None = None


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads by role (Linux), plus the whole process."""
    by_role: dict[str, float] = {}
    for thread in threading.enumerate():
        cpu = _proc_cpu_s(f"/proc/self/task/{thread.native_id}/stat")
        if cpu is None:
            continue
        if thread.name.startswith("ingest-writer"):
            role = "writer"
        elif thread.name.startswith("paho-mqtt"):
            role = "mqtt_network"
        elif thread.name.startswith("ingest-upkeep"):
            role = "upkeep"
        else:
            role = "other"
        by_role[role] = round(by_role.get(role, 0.0) + cpu, 2)
    t = os.times()
    by_role["process"] = round(t.user + t.system, 2)
    return by_role


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
    cpu = _thread_cpu()
    worker.stop()
    if profiler is not None and spec.profile_path:
        profiler.dump_stats(spec.profile_path)
    out.put(("final", spec.client_id, {"peak_rss_mb": round(_peak_rss_mb(), 1), "cpu_s": cpu}))
    out.close()
    out.join_thread()


@dataclass
class _Commits:
    """What the workers reported, gathered by a thread of the benchmark process."""

    keys: dict[tuple[str, int], int]  # (device, seq) → batch index
    committed_at: np.ndarray = field(init=False)
    done: int = 0
    samples: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    foreign: int = 0
    last_commit: float = 0.0
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.committed_at = np.full(len(self.keys), np.nan)

    def drain(self, queue: MpQueue[Any]) -> None:
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
                        self.stored += 1
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


class _Workers:
    """Spawned ingest worker processes and the thread collecting their commits."""

    def __init__(
        self,
        ctx: SpawnContext,
        specs: list[WorkerSpec],
        commits: _Commits,
    ) -> None:
        self._ctx = ctx
        self.specs = specs
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


def run_ours(
    database_url: str,
    mqtt_url: str,
    workload: Workload,
    *,
    workers: int = 1,
    pace_samples_per_s: float | None = None,
    max_seconds: float | None = None,
    profile_path: Path | None = None,
    label: str = "ours",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Publish the batches to ``workers`` spawned IngestWorkers and time until all committed.

    With ``pace_samples_per_s`` publishing is paced to that rate (for latency) and stops after
    ``max_seconds`` of it; otherwise every batch is published as fast as the window allows.
    """
    run_id = uuid.uuid4().hex[:8]
    n = workload.batches
    cum = workload.row_start[:-1] if pace_samples_per_s else None
    if pace_samples_per_s and max_seconds:
        n = max(1, int(np.searchsorted(workload.row_start[:-1], pace_samples_per_s * max_seconds)))
    keys = {workload.key(b): b for b in range(n)}
    commits = _Commits(keys)
    ctx = mp.get_context("spawn")  # a fresh interpreter: none of the pre-generated data
    specs = [
        WorkerSpec(
            database_url,
            mqtt_url,
            client_id=f"wl-bench-{run_id}-{i}",
            group=f"bench-{run_id}",
            profile_path=str(profile_path) if profile_path and i == 0 else None,
        )
        for i in range(workers)
    ]
    with db.connect(database_url, autocommit=True) as conn:
        reset(conn)
        pool = _Workers(ctx, specs, commits)
        try:
            pool.start()
            backends = _worker_backends(conn)  # more may connect later (upkeep)
            topics_ = [topics.topic(d, "telemetry") for d in workload.device_ids]
            publisher = Publisher(mqtt_url, f"wl-bench-pub-{run_id}")
            window = OURS_WINDOW_PER_WORKER * workers
            published_at = np.zeros(n)

            def tick() -> None:
                if progress is not None:
                    progress(label, commits.done, n)

            brokers = _broker_pids(mqtt_url)
            worker_pids = {p.pid for p in pool.procs if p.pid is not None}
            before = _CpuSnapshot.take(list(backends), brokers)
            first = time.time()
            start_mono = time.monotonic()
            try:
                for b in range(n):
                    if cum is not None and pace_samples_per_s:
                        delay = start_mono + cum[b] / pace_samples_per_s - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                    if b - commits.done >= window:
                        commits.wait_done(b - window + 1, "publishing", tick)
                    published_at[b] = time.time()
                    publisher.publish(topics_[workload.batch_device[b]], workload.payloads[b])
                    if b % 50 == 0:
                        tick()
                commits.wait_done(n, "committing", tick)
                backends.update(_worker_backends(conn))
                after = _CpuSnapshot.take(list(backends), brokers)
                publisher.wait_acknowledged(10)
            finally:
                publisher.close()
            if progress is not None:
                progress(label, commits.done, n)
            stored_samples = _one(
                conn,
                "SELECT COALESCE(sum(n_samples), 0) FROM batches WHERE device_id = ANY(%s)",
                (workload.device_ids,),
            )
        finally:
            finals = pool.close()
    elapsed = commits.last_commit - first
    expected = int(workload.batch_samples[:n].sum())
    latency = commits.committed_at - published_at
    result: dict[str, Any] = {
        "workers": workers,
        "batches": n,
        "samples": expected,
        "seconds": round(elapsed, 3),
        "samples_per_s": round(commits.samples / elapsed) if elapsed > 0 else 0,
        "stored_samples": stored_samples,
        "dead_letters": commits.dead_letters,
        "duplicates": commits.duplicates,
        "foreign_messages": commits.foreign,
        "latency_s": {
            "p50": round(float(np.percentile(latency, 50)), 4),
            "p99": round(float(np.percentile(latency, 99)), 4),
            "max": round(float(latency.max()), 4),
        },
        "worker_rss_mb": max((f["peak_rss_mb"] for f in finals.values()), default=None),
        "cpu_s": _cpu_report(before, after, finals, backends, worker_pids),
    }
    if pace_samples_per_s:
        result["paced_samples_per_s"] = round(pace_samples_per_s)
    if stored_samples != expected or commits.dead_letters:
        raise RuntimeError(
            f"{label}: stored {stored_samples} of {expected} samples, "
            f"{commits.dead_letters} dead letters"
        )
    return result


def _cpu_report(
    before: _CpuSnapshot,
    after: _CpuSnapshot,
    finals: dict[str, dict[str, Any]],
    backends: dict[int, str],
    workers: set[int],
) -> dict[str, Any]:
    """CPU seconds by part during the timed run (worker threads are counted over their life)."""
    report: dict[str, Any] = {"wall": round(after.wall - before.wall, 2)}
    for role in ("writer", "mqtt_network", "upkeep", "other", "process"):
        report[f"worker_{role}"] = round(sum(f["cpu_s"].get(role, 0.0) for f in finals.values()), 2)
    report["postgres_backends"] = _delta(after.backends, before.backends)
    report["postgres_backend_by_last_query"] = {
        f"{pid}: {query}": _delta({pid: after.backends.get(pid)}, before.backends)
        for pid, query in sorted(backends.items())
    }
    report["broker"] = _delta(after.brokers, before.brokers) if after.brokers else None
    report["publisher_process"] = round(after.me - before.me, 2)
    if after.machine is not None and before.machine is not None:
        for key in ("busy", "iowait", "steal"):
            report[f"machine_{key}"] = round(after.machine[key] - before.machine[key], 2)
        report["machine_cores"] = os.cpu_count()
    # Everything that ran meanwhile, by kind of process: the share nobody above accounts for
    # (autovacuum, the WAL writer, other people's jobs on a shared machine) shows up here.
    by_kind: dict[str, float] = {}
    for pid, (name, cpu) in after.processes.items():
        start = before.processes.get(pid, (name, 0.0))[1]
        if pid in workers:
            name = "ingest worker process"
        elif pid == os.getpid():
            name = "bench process (publisher)"
        by_kind[name] = by_kind.get(name, 0.0) + cpu - start
    report["top_processes"] = {
        name: round(cpu, 2)
        for name, cpu in sorted(by_kind.items(), key=lambda kv: -kv[1])[:10]
        if cpu >= 0.05
    }
    return report


# --- the naive way ---------------------------------------------------------------------------


def naive_messages(workload: Workload, limit: int, topic_prefix: str) -> list[tuple[str, bytes]]:
    """One JSON message per sample for the first ``limit`` rows, as a simple device sends it."""
    out = []
    names = {s.id: s.name for s in SIGNALS}
    for i in range(min(limit, workload.samples)):
        device = int(workload.row_device[i])
        device_id = workload.device_ids[device]
        doc = {
            "device_id": device_id,
            "vin": workload.vins[device],
            "time_ms": int(workload.time_ms[i]),
            "signal": names[int(workload.signal_id[i])],
            "value": float(workload.value[i]),
        }
        out.append((f"{topic_prefix}/{device_id}", json.dumps(doc).encode()))
    return out


def naive_subscriber(
    database_url: str,
    mqtt_url: str,
    topic_filter: str,
    client_id: str,
    inserted: Any,
    last_insert: Any,
    ready: MpEvent,
    stop: MpEvent,
) -> None:
    """A spawned process: for each message, json.loads and one autocommitted INSERT."""
    conn = db.connect(database_url, autocommit=True)
    vehicles: dict[str, int] = {}

    def on_message(client, userdata, msg) -> None:
        doc = json.loads(msg.payload)
        device_id = doc["device_id"]
        vehicle_id = vehicles.get(device_id)
        if vehicle_id is None:
            found = registry.device_vehicle(conn, device_id)
            if found is None:
                return
            vehicle_id = vehicles[device_id] = found[0]
        signal = by_name(doc["signal"])
        if signal is None:
            return
        conn.execute(
            "INSERT INTO readings (time, vehicle_id, signal_id, value) VALUES (%s, %s, %s, %s)",
            (_EPOCH + timedelta(milliseconds=doc["time_ms"]), vehicle_id, signal.id, doc["value"]),
        )
        inserted.value += 1
        last_insert.value = time.time()

    def on_subscribe(client, userdata, mid, reason_codes, properties) -> None:
        ready.set()

    client, broker = _mqtt_client(mqtt_url, client_id)
    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic_filter, qos=1)
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = NAIVE_WINDOW
    client.connect(broker.host, broker.port, keepalive=60, clean_start=True, properties=props)
    client.loop_start()
    stop.wait()
    client.disconnect()
    client.loop_stop()
    conn.close()


def run_naive(
    database_url: str,
    mqtt_url: str,
    workload: Workload,
    *,
    seconds: float,
    max_samples: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Publish one JSON message per sample for ``seconds`` (or ``max_samples``) to a naive
    subscriber; rate = rows inserted / (last insert − first publish)."""
    run_id = uuid.uuid4().hex[:8]
    prefix = f"wlbench/{run_id}/naive"
    messages = naive_messages(workload, max_samples, prefix)
    ctx = mp.get_context("spawn")
    inserted = ctx.Value("q", 0, lock=False)
    last_insert = ctx.Value("d", 0.0, lock=False)
    ready, stop = ctx.Event(), ctx.Event()
    proc = ctx.Process(
        target=naive_subscriber,
        args=(
            database_url,
            mqtt_url,
            f"{prefix}/+",
            f"wl-bench-naive-{run_id}",
            inserted,
            last_insert,
            ready,
            stop,
        ),
        name="bench-naive-subscriber",
        daemon=True,
    )
    with db.connect(database_url, autocommit=True) as conn:
        reset(conn)
        proc.start()
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not ready.wait(0.2):
                if not proc.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("naive subscriber did not start")
            publisher = Publisher(mqtt_url, f"wl-bench-naive-pub-{run_id}")
            try:
                first = time.time()
                stop_at = time.monotonic() + seconds
                sent = 0
                for topic, payload in messages:
                    if time.monotonic() >= stop_at:
                        break
                    while sent - inserted.value >= NAIVE_WINDOW:
                        time.sleep(0.001)
                    publisher.publish(topic, payload)
                    sent += 1
                    if progress is not None and sent % 500 == 0:
                        progress("naive", time.monotonic() - stop_at + seconds, seconds)
                seen, since = inserted.value, time.monotonic()
                while inserted.value < sent:
                    time.sleep(0.01)
                    if inserted.value != seen:
                        seen, since = inserted.value, time.monotonic()
                    elif time.monotonic() - since > STALL_S:
                        raise RuntimeError(f"naive: {inserted.value} of {sent} rows inserted")
                elapsed = last_insert.value - first
                if sent == 0 or elapsed <= 0:
                    raise RuntimeError("naive: nothing was inserted")
            finally:
                publisher.close()
            if progress is not None:
                progress("naive", seconds, seconds)
            stored = _one(conn, "SELECT count(*) FROM readings")
        finally:
            stop.set()
            proc.join(30)
            if proc.is_alive():
                proc.kill()
                proc.join()
    if stored != sent:
        raise RuntimeError(f"naive: {stored} rows stored, {sent} published")
    return {
        "samples": sent,
        "seconds": round(elapsed, 3),
        "samples_per_s": round(sent / elapsed),
        "bytes_per_sample": round(sum(len(p) for _, p in messages[:sent]) / max(sent, 1), 1),
    }


# --- everything ------------------------------------------------------------------------------


def run_all(
    database_url: str,
    mqtt_url: str,
    workload: Workload,
    *,
    seconds: float = 10.0,
    workers: Sequence[int] = (1, 2),
    latency_fraction: float = 0.5,
    profile_path: Path | None = None,
    naive_max_samples: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Every competitor in turn on the same workload; a flat dict of figures and ratios."""
    naive = run_naive(
        database_url,
        mqtt_url,
        workload,
        seconds=seconds,
        max_samples=naive_max_samples or int(seconds * 20_000),
        progress=progress,
    )
    ours_by_workers = {
        w: run_ours(
            database_url,
            mqtt_url,
            workload,
            workers=w,
            label=f"ours, {w} worker{'s' if w > 1 else ''}",
            progress=progress,
        )
        for w in workers
    }
    best = max(ours_by_workers.values(), key=lambda r: r["samples_per_s"])
    limit = run_limit(database_url, workload)
    if progress is not None:
        progress("limit", 1, 1)
    latency = run_ours(
        database_url,
        mqtt_url,
        workload,
        workers=best["workers"],
        pace_samples_per_s=best["samples_per_s"] * latency_fraction,
        max_seconds=seconds,
        label=f"latency at {latency_fraction:.0%} rate",
        progress=progress,
    )
    profile = None
    if profile_path is not None:
        profile = run_ours(
            database_url,
            mqtt_url,
            workload,
            workers=1,
            profile_path=profile_path,
            label="ours under cProfile",
            progress=progress,
        )
    ours_rate = best["samples_per_s"]
    figures: dict[str, Any] = {
        "naive_samples_per_s": naive["samples_per_s"],
        "ours_samples_per_s": ours_rate,
        "limit_samples_per_s": limit["samples_per_s"],
        "p99_commit_latency_s": latency["latency_s"]["p99"],
        "worker_rss_mb": best["worker_rss_mb"],
        "ours_over_naive": round(ours_rate / naive["samples_per_s"], 1),
        "ours_over_limit": round(ours_rate / limit["samples_per_s"], 3),
        "ours_workers": best["workers"],
        "ours_by_workers": {str(w): r["samples_per_s"] for w, r in ours_by_workers.items()},
        "samples": workload.samples,
        "batches": workload.batches,
        "devices": len(workload.device_ids),
        "wire_bytes_per_sample": round(workload.payload_bytes / workload.samples, 3),
        "naive": naive,
        "ours": {str(w): r for w, r in ours_by_workers.items()},
        "limit": limit,
        "latency": latency,
        "targets": TARGETS,
    }
    if profile is not None:
        figures["profiled_run"] = profile
    figures["targets_met"] = {
        "ours_over_naive": figures["ours_over_naive"] >= TARGETS["ours_over_naive_min"],
        "ours_over_limit": figures["ours_over_limit"] >= TARGETS["ours_over_limit_min"],
        "p99_commit_latency_s": figures["p99_commit_latency_s"]
        <= TARGETS["p99_commit_latency_s_max"],
        "worker_rss_mb": (figures["worker_rss_mb"] or 0) <= TARGETS["worker_rss_mb_max"],
    }
    return figures
