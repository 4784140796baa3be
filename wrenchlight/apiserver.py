# SPDX-License-Identifier: MIT
"""The API served by uvicorn in a background thread (for the demo and tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from api.main import create_app
from wrenchlight.embedded import free_port


class ApiServer:
    """uvicorn on ``host:port`` (a free port when ``port`` is 0 or taken)."""

    def __init__(
        self,
        database_url: str,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        trusted_proxies: tuple[str, ...] = (),
        app_for_port: Callable[[int], FastAPI] | None = None,
    ) -> None:
        """``app_for_port`` builds the served app once the port is known (the web app's mail
        links name it); without it, the bare API with ``trusted_proxies``."""
        self.database_url = database_url
        self.trusted_proxies = trusted_proxies
        self.app_for_port = app_for_port
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = 20.0) -> str:
        """Start serving; returns the base URL."""
        port = self.port if self.port and port_free(self.host, self.port) else free_port()
        app = (
            self.app_for_port(port)
            if self.app_for_port is not None
            else create_app(self.database_url, trusted_proxies=self.trusted_proxies)
        )
        config = uvicorn.Config(
            app,
            host=self.host,
            port=port,
            # uvicorn would believe X-Forwarded-For from 127.0.0.1; the app decides instead.
            proxy_headers=False,
            log_level="warning",
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"API did not start on {self.host}:{port}")
            time.sleep(0.05)
        self.port = port
        return f"http://{self.host}:{port}"

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for it."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now."""
    import socket

    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
