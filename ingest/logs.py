# SPDX-License-Identifier: MIT
"""Log set-up for worker processes: readable lines, or one JSON object per line for shippers."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def setup_logging(level: int, *, json_lines: bool = False) -> None:
    """Configure the root logger of this process."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{processName}{message}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "processName": "process"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")
        )
    logging.basicConfig(level=level, handlers=[handler], force=True)
