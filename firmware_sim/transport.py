# SPDX-License-Identifier: MIT
"""Serve an ``Elm327`` over a pseudo-terminal, so serial clients see a USB-serial adapter."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty

from firmware_sim.elm327 import Elm327

# Real adapters give up on a partial line this long; keeps a stray byte from blocking.
MAX_LINE_BYTES = 256


class PtyDongle:
    """A pseudo-terminal pair; clients open ``.path``, a daemon thread answers them."""

    def __init__(self, elm: Elm327) -> None:
        self.elm = elm
        self._master, self._slave = os.openpty()
        # Raw mode on both ends: no echo, no CR/LF translation, byte-exact like a UART.
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="pty-dongle", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        buf = bytearray()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.1)
                if not ready:
                    continue
                chunk = os.read(self._master, 1024)
            except OSError:
                return  # master closed: the dongle was unplugged
            for b in chunk:
                if b == 0x0D:
                    reply = self.elm.handle(buf.decode("ascii", "replace"))
                    buf.clear()
                    self._write(reply.encode("ascii", "replace"))
                elif b != 0x0A and len(buf) < MAX_LINE_BYTES:
                    buf.append(b)  # LF after CR is ignored, as by the chip

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            try:
                n = os.write(self._master, view)
            except BlockingIOError:
                select.select([], [self._master], [], 0.1)
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
