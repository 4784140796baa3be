# SPDX-License-Identifier: MIT
"""Running ingest as a service: N worker processes under one supervisor until SIGINT/SIGTERM.

Each worker is its own process (one writer thread per process is what the GIL allows to run
at full speed), a member of the MQTT shared subscription with a client id stable across
restarts, so the broker resumes its session. The supervisor restarts a worker that dies, and
serves the workers' Prometheus metrics, summed, at ``/metrics``.
"""

from __future__ import annotations

import hmac
import logging
import multiprocessing as mp
import os
import signal
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path

from telemetry import topics
from telemetry.mqtt_url import MqttUrl

log = logging.getLogger(__name__)

# A worker that keeps dying is restarted at most this often, so a bad configuration (wrong
# password, missing table) logs once a few seconds instead of spinning.
RESTART_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
# A worker that ran this long before dying is considered healthy: its backoff starts over.
HEALTHY_AFTER_S = 60.0


def _install_secret(mqtt_url: str | None) -> str | None:
    """A token stable for this install and unguessable without the broker password."""
    url = MqttUrl.parse(mqtt_url) if mqtt_url else None
    if url is None or not url.password:
        return None
    mac = hmac.new(url.password.encode(), f"wl-ingest:{url.username}".encode(), "sha256")
    return mac.hexdigest()[:24]


def default_client_id(
    index: int = 0, prefix: str | None = None, mqtt_url: str | None = None
) -> str:
    """A client id stable across restarts of this host, so the broker resumes its session.

    Without an explicit prefix it carries a suffix derived from the broker password: stable for
    this install, unguessable to anyone without that password. A client that connects with a
    worker's id takes its session (Mosquitto resumes it whatever the username, finding 2 of
    issue 15), so the id must not be predictable.
    """
    if prefix is None:
        secret = _install_secret(mqtt_url)
        prefix = f"wl-ingest-{socket.gethostname()}" + (f"-{secret}" if secret else "")
    return f"{prefix}-{index}"


def service_group(group: str, mqtt_url: str | None) -> str:
    """The shared-subscription group the service joins: the default group gets the install's
    secret suffix, so a client that may subscribe freely (Mosquitto's acl_file checks no
    subscription) cannot name our group and take a share of its batches (finding 1)."""
    secret = _install_secret(mqtt_url)
    return f"{group}-{secret}" if secret and group == topics.INGEST_GROUP else group


@dataclass(frozen=True)
class WorkerConfig:
    """What one worker process needs; plain data, so it crosses to a spawned process."""

    database_url: str
    mqtt_url: str
    client_id: str
    group: str = topics.INGEST_GROUP
    session_expiry_s: int = 3600
    log_level: int = logging.INFO
    json_logs: bool = False


def worker_main(config: WorkerConfig) -> None:
    """Entry point of a worker process: consume until SIGTERM, then drain and exit."""
    from ingest.consumer import IngestWorker, run_forever
    from ingest.logs import setup_logging

    setup_logging(config.log_level, json_lines=config.json_logs)
    _stop_with_supervisor()
    run_forever(
        [
            IngestWorker(
                config.database_url,
                config.mqtt_url,
                client_id=config.client_id,
                group=config.group,
                session_expiry_s=config.session_expiry_s,
            )
        ]
    )


def _stop_with_supervisor() -> None:
    """SIGTERM this worker (drain, then exit) when its supervisor dies.

    A supervisor killed with SIGKILL cannot stop its workers. An orphan would go on consuming
    forever, and once the service is started again it would take its client id's session
    from the new worker, and back, every reconnect.
    """
    supervisor = mp.parent_process()
    if supervisor is None:
        return

    def watch() -> None:
        supervisor.join()
        log.warning("supervisor pid %s is gone; stopping", supervisor.pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def run(
    database_url: str,
    mqtt_url: str,
    *,
    workers: int = 1,
    group: str = topics.INGEST_GROUP,
    client_prefix: str | None = None,
    session_expiry_s: int = 3600,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
    json_logs: bool = False,
) -> None:
    """Run ``workers`` worker processes until SIGINT or SIGTERM, restarting any that die."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    configs = [
        WorkerConfig(
            database_url,
            mqtt_url,
            client_id=default_client_id(i, client_prefix, mqtt_url),
            group=service_group(group, mqtt_url),
            session_expiry_s=session_expiry_s,
            log_level=logging.getLogger().getEffectiveLevel(),
            json_logs=json_logs,
        )
        for i in range(workers)
    ]
    with tempfile.TemporaryDirectory(prefix="wl-ingest-metrics-") as metrics_dir:
        Supervisor(configs, metrics_dir=Path(metrics_dir)).run(
            metrics_port=metrics_port, metrics_host=metrics_host
        )


class Supervisor:
    """Starts one process per worker, restarts the ones that die, stops them all on a signal."""

    def __init__(self, configs: list[WorkerConfig], *, metrics_dir: Path) -> None:
        self._configs = configs
        self._metrics_dir = metrics_dir
        self._ctx = mp.get_context("spawn")  # a fresh interpreter: no inherited threads or sockets
        self._procs: list[BaseProcess | None] = [None] * len(configs)
        self._started_at = [0.0] * len(configs)
        self._failures = [0] * len(configs)
        self._stop = threading.Event()

    def run(self, *, metrics_port: int | None, metrics_host: str) -> None:
        # Children read this at import of prometheus_client, so it must be set before spawning.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(self._metrics_dir)
        if metrics_port is not None:
            self._serve_metrics(metrics_host, metrics_port)
        previous = {
            s: signal.signal(s, lambda signum, frame: self._stop.set())
            for s in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for i in range(len(self._configs)):
                self._start(i)
            log.info(
                "ingest supervisor pid %d running %d worker(s)", os.getpid(), len(self._configs)
            )
            while not self._stop.wait(0.5):
                self._reap()
        finally:
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _start(self, i: int) -> None:
        proc = self._ctx.Process(
            target=worker_main,
            args=(self._configs[i],),
            name=f"ingest-{self._configs[i].client_id}",
        )
        proc.start()
        self._procs[i] = proc
        self._started_at[i] = time.monotonic()
        log.info("worker %s started, pid %s", self._configs[i].client_id, proc.pid)

    def _reap(self) -> None:
        from prometheus_client import multiprocess

        for i, proc in enumerate(self._procs):
            if proc is None or proc.is_alive():
                continue
            multiprocess.mark_process_dead(proc.pid, str(self._metrics_dir))
            ran_s = time.monotonic() - self._started_at[i]
            self._failures[i] = 0 if ran_s > HEALTHY_AFTER_S else self._failures[i] + 1
            delay = (
                RESTART_BACKOFF_S[min(self._failures[i], len(RESTART_BACKOFF_S)) - 1]
                if (self._failures[i])
                else 0.0
            )
            log.error(
                "worker %s (pid %s) exited with %s after %.0f s; restarting in %.0f s",
                self._configs[i].client_id,
                proc.pid,
                proc.exitcode,
                ran_s,
                delay,
            )
            self._procs[i] = None
            if self._stop.wait(delay):
                return
            self._start(i)

    def _stop_all(self) -> None:
        live = [p for p in self._procs if p is not None and p.is_alive()]
        for proc in live:
            proc.terminate()  # SIGTERM: the worker commits what it holds, then exits
        for proc in live:
            proc.join(60)
            if proc.is_alive():
                log.warning("worker pid %s did not stop within 60 s; killing it", proc.pid)
                proc.kill()
                proc.join()
        log.info("ingest stopped")

    def _serve_metrics(self, host: str, port: int) -> None:
        from prometheus_client import CollectorRegistry, multiprocess, start_http_server

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(self._metrics_dir))
        start_http_server(port, addr=host, registry=registry)
        log.info("metrics at http://%s:%d/metrics", host, port)
