# SPDX-License-Identifier: MIT
"""SIGINT and SIGTERM as one orderly stop of a long-running command.

Python's default SIGTERM ends the process at once, skipping every ``finally`` and
``ExitStack`` callback, so children and the embedded PostgreSQL were left running. Here the
first SIGINT or SIGTERM raises :class:`Stopped` in the main thread, which unwinds the command
and stops what it started, in order; signals after the first are logged and ignored, so a
second Ctrl-C cannot cut that cleanup short.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _while_stopping(signum: int, frame: FrameType | None) -> None:
    log.warning("%s: already stopping, please wait", signal.Signals(signum).name)


def _stop(signum: int, frame: FrameType | None) -> None:
    for s in SIGNALS:
        signal.signal(s, _while_stopping)
    raise Stopped(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise Stopped once; the old handlers come back after."""
    previous = {s: signal.signal(s, _stop) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
