# SPDX-License-Identifier: MIT
"""CPU and memory accounting from /proc (Linux; psutil elsewhere and for the process table)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from db.rows import a_dict, dicts
from telemetry.mqtt_url import MqttUrl


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


def server_processes(conn: psycopg.Connection) -> dict[int, str]:
    """The processes of the server ``conn`` is connected to, pid → role; {} when not local.

    Found from this session's backend: its parent is the postmaster, and pg_stat_activity
    lists the server's other processes with their type. Not by process name or title: other
    servers on the machine (a second cluster, an embedded PostgreSQL) have the same ones.
    """
    import psutil

    row = a_dict(
        conn,
        "SELECT pg_backend_pid() AS backend, "
        "extract(epoch FROM pg_postmaster_start_time()) AS started, current_database() AS db",
    )
    if row is None:
        return {}
    backend, started, db = row["backend"], row["started"], row["db"]
    try:
        postmaster = psutil.Process(int(backend)).parent()
        # A server on another host (or in a container) can have a local pid that means
        # something else; its start time tells.
        if postmaster is None or abs(postmaster.create_time() - float(started)) > 5:
            return {}
    except (psutil.Error, OSError):
        return {}
    roles = {postmaster.pid: "postmaster"}
    for r in dicts(conn, "SELECT pid, backend_type, datname FROM pg_stat_activity"):
        kind = r["backend_type"]
        roles[int(r["pid"])] = (
            f"backend of {r['datname']}" if kind == "client backend" else str(kind)
        )
    roles[int(backend)] = f"backend of {db}"
    return roles


def _processes_cpu_s(server: dict[int, str]) -> dict[int, tuple[str, float]]:
    """Every visible process: pid → (what it is, CPU seconds so far)."""
    import psutil

    out = {}
    for proc in psutil.process_iter(["name", "cpu_times"]):
        times = proc.info.get("cpu_times")
        if times is None:
            continue
        name = proc.info.get("name") or "?"
        if proc.pid in server:
            name = f"postgres {server[proc.pid]}"
        elif name == "postgres":
            name = "postgres (another server)"
        out[proc.pid] = (name, float(times.user + times.system))
    return out


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil  # not Linux: the current RSS is the best available

    return float(psutil.Process().memory_info().rss) / 2**20


def broker_pids(mqtt_url: str) -> list[int]:
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
class CpuSnapshot:
    wall: float
    machine: dict[str, float] | None
    me: float
    backends: dict[int, float | None]
    brokers: dict[int, float | None]
    processes: dict[int, tuple[str, float]]
    server: dict[int, str]

    @classmethod
    def take(
        cls, backends: Sequence[int], brokers: Sequence[int], server: dict[int, str] | None = None
    ) -> CpuSnapshot:
        """``server``: the bench database's server processes (``server_processes``)."""
        t = os.times()
        server = server or {}
        return cls(
            time.monotonic(),
            _machine_cpu_s(),
            t.user + t.system,
            {pid: _proc_cpu_s(f"/proc/{pid}/stat") for pid in backends},
            {pid: _proc_cpu_s(f"/proc/{pid}/stat") for pid in brokers},
            _processes_cpu_s(server),
            server,
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


def worker_backends(conn: psycopg.Connection) -> dict[int, str]:
    """The other sessions on this (private) bench database, the workers': pid → last query."""
    rows = dicts(
        conn,
        "SELECT pid, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query "
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'",
    )
    return {int(r["pid"]): str(r["query"]) for r in rows}


def thread_cpu() -> dict[str, float]:
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


def cpu_report(
    before: CpuSnapshot,
    after: CpuSnapshot,
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
    # The whole server of the bench database (background processes too), none of another's.
    server = set(before.server) | set(after.server)
    report["postgres_server"] = (
        round(
            sum(
                after.processes[pid][1] - before.processes.get(pid, ("", 0.0))[1]
                for pid in server
                if pid in after.processes
            ),
            2,
        )
        if server
        else None
    )
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
