# SPDX-License-Identifier: MIT
"""The API in several processes on one port: each worker binds its own ``SO_REUSEPORT``
socket and the kernel spreads connections over them.

Why not uvicorn's own ``--workers``: its workers accept on a socket inherited from the parent
and rebuilt with ``socket.fromfd``, which reports protocol 0 instead of TCP, so asyncio does
not set ``TCP_NODELAY`` on the accepted connections; Nagle's algorithm then holds the body of
each small response until the client's delayed ACK, 40 ms later (measured here: 48 ms per
``/healthz`` with ``--workers 2`` against 1.5 ms with one process). A socket each worker makes
itself, with its protocol stated, gets ``TCP_NODELAY`` as usual.

Each worker builds the app from the settings in its environment
(``wrenchlight.api_config.app_from_settings``); the supervisor restarts a worker that dies and
stops them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)

# A worker that keeps dying is restarted at most this often.
RESTART_DELAY_S = 1.0


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, log_level: str) -> None:
    import uvicorn

    config = uvicorn.Config(
        "wrenchlight.api_config:app_from_settings",
        factory=True,
        proxy_headers=False,  # the app believes only WRENCHLIGHT_TRUSTED_PROXIES
        log_level=log_level,
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[_listen(host, port)])


def serve(host: str, port: int, workers: int, *, log_level: str = "warning") -> None:
    """Run ``workers`` API processes on ``host:port`` until SIGINT or SIGTERM.

    The settings (database URL, token secret, limits) travel in the environment; a token
    secret must be set so that every worker accepts the others' tokens.
    """
    if not os.environ.get("WRENCHLIGHT_JWT_SECRET"):
        raise RuntimeError("several API workers need one WRENCHLIGHT_JWT_SECRET")
    _listen(host, port).close()  # fail here, not in every worker, if the port is taken
    ctx = mp.get_context("spawn")
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    procs: list[BaseProcess] = []

    def start() -> BaseProcess:
        proc = ctx.Process(target=_worker, args=(host, port, log_level), name="wl-api", daemon=True)
        proc.start()
        return proc

    try:
        procs = [start() for _ in range(workers)]
        log.info("API on %s:%d in %d worker processes", host, port, workers)
        while not stop.wait(RESTART_DELAY_S):
            for i, proc in enumerate(procs):
                if not proc.is_alive():
                    log.warning("API worker %s exited (%s); restarting", proc.pid, proc.exitcode)
                    procs[i] = start()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(10)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
