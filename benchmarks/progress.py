# SPDX-License-Identifier: MIT
"""Rich progress bars for the phases a benchmark reports through its progress callback."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Bars:
    """A progress callback ``(phase, done, total)`` drawing one bar per phase."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: float, total: float) -> None:
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._progress.add_task(phase, total=total)
        self._progress.update(task, completed=done, total=total)


def bars(console: Console) -> Progress:
    """The progress display the bars of one benchmark run are drawn in."""
    return Progress(
        TextColumn("[bold]{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
