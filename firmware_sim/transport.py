# SPDX-License-Identifier: MIT
"""Serve an ``Elm327`` over a pseudo-terminal (USB-serial adapters) or TCP (Wi-Fi adapters).

Both share ``LineSession``: it collects a command up to CR, answers it on a worker
thread so that a character arriving meanwhile interrupts it (the chip's ``STOPPED``),
and holds the reply back for the time the bytes take on a serial line at ``baud``.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable

from firmware_sim.elm327 import Elm327

# Real adapters give up on a partial line this long; keeps a stray byte from blocking.
MAX_LINE_BYTES = 256
DEFAULT_TCP_PORT = 35000  # what most Wi-Fi ELM327 adapters listen on
POLL_S = 0.1
BITS_PER_BYTE = 10  # 8N1: start, 8 data bits, stop


class LineSession:
    """Turns a byte stream into commands and writes replies back through ``write``."""

    def __init__(self, elm: Elm327, write: Callable[[bytes], None], *, baud: int = 0) -> None:
        self.elm = elm
        self._write = write
        self.baud = baud
        self._buf = bytearray()
        self._state = threading.Lock()
        self._out = threading.Lock()
        self._busy: threading.Event | None = None  # interrupt flag of the request in progress

    def feed(self, data: bytes) -> None:
        """Bytes received from the client."""
        for b in data:
            with self._state:
                if self._busy is not None:
                    # Any character while a request is answered stops it and is discarded.
                    self._busy.set()
                    continue
                if b == 0x0D:
                    line, self._busy = self._buf.decode("ascii", "replace"), threading.Event()
                    self._buf.clear()
                    threading.Thread(
                        target=self._answer, args=(line, self._busy), daemon=True
                    ).start()
                elif b != 0x0A and len(self._buf) < MAX_LINE_BYTES:
                    self._buf.append(b)  # LF after CR is ignored, as by the chip

    def _answer(self, line: str, interrupt: threading.Event) -> None:
        reply = self.elm.handle(line, interrupt=interrupt).encode("ascii", "replace")
        if self.baud > 0:
            # The command came in and the reply goes out at the serial line's speed.
            time.sleep((len(line) + 1 + len(reply)) * BITS_PER_BYTE / self.baud)
        with self._out:
            with self._state:
                self._busy = None  # before the prompt goes out: the client may answer at once
            if reply:
                self._write(reply)


class PtyDongle:
    """A pseudo-terminal pair; clients open ``.path``, a daemon thread answers them."""

    def __init__(self, elm: Elm327, *, baud: int = 0) -> None:
        self.elm = elm
        self._master, self._slave = os.openpty()
        # Raw mode on both ends: no echo, no CR/LF translation, byte-exact like a UART.
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._session = LineSession(elm, self._write, baud=baud)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="pty-dongle", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], POLL_S)
                if not ready:
                    continue
                chunk = os.read(self._master, 1024)
            except OSError:
                return  # master closed: the dongle was unplugged
            if self.elm.faults is None or not self.elm.faults.offline:
                self._session.feed(chunk)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            try:
                n = os.write(self._master, view)
            except BlockingIOError:
                select.select([], [self._master], [], POLL_S)
                continue
            except OSError:
                return
            view = view[n:]

    def close(self) -> None:
        """Stop serving and release both ends of the terminal."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> PtyDongle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TcpDongle:
    """A TCP server like a Wi-Fi adapter's: one client at a time, others are hung up on."""

    def __init__(
        self, elm: Elm327, *, host: str = "127.0.0.1", port: int = DEFAULT_TCP_PORT, baud: int = 0
    ) -> None:
        self.elm = elm
        self.baud = baud
        self._listener = socket.create_server((host, port))
        self.host, self.port = self._listener.getsockname()[:2]
        self.address = f"{self.host}:{self.port}"
        self._client: socket.socket | None = None
        self._session: LineSession | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tcp-dongle", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            socks = [self._listener] + ([self._client] if self._client else [])
            try:
                ready, _, _ = select.select(socks, [], [], POLL_S)
            except (OSError, ValueError):
                return
            offline = self.elm.faults is not None and self.elm.faults.offline
            if offline and self._client is not None:
                self._drop_client()  # a dropout closes the Wi-Fi link
            for sock in ready:
                if sock is self._listener:
                    self._accept(refuse=offline or self._client is not None)
                elif self._client is not None:
                    self._receive()

    def _accept(self, *, refuse: bool) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        if refuse:
            conn.close()
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client = conn
        self._session = LineSession(self.elm, self._send, baud=self.baud)

    def _receive(self) -> None:
        assert self._client is not None and self._session is not None
        try:
            data = self._client.recv(1024)
        except OSError:
            data = b""
        if not data:
            self._drop_client()
        else:
            self._session.feed(data)

    def _send(self, data: bytes) -> None:
        client = self._client
        if client is not None:
            with contextlib.suppress(OSError):
                client.sendall(data)

    def _drop_client(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.close()
        self._client = self._session = None

    def close(self) -> None:
        """Stop serving, hang up on the client and close the port."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._drop_client()
        with contextlib.suppress(OSError):
            self._listener.close()

    def __enter__(self) -> TcpDongle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
