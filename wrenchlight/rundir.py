# SPDX-License-Identifier: MIT
"""Who uses a data directory's embedded services: a lock held while they run, and a state file
naming the process and the URLs of its database, broker and API.

The lock is an ``flock`` on ``wrenchlight.lock``: the kernel releases it when its holder exits,
however it exits (SIGKILL included), so a crash never leaves a lock that blocks the next run.
The state file ``wrenchlight.json`` is only believed while its writer holds the lock; one left
by a crashed process is removed by the next process that takes the lock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO

LOCK_FILE = "wrenchlight.lock"
STATE_FILE = "wrenchlight.json"


class DataDirBusy(Exception):
    """Another process runs the embedded services of this data directory."""


@dataclass(frozen=True)
class RunState:
    """What a process running a data directory's services tells the others."""

    pid: int
    command: str
    started_at: str
    database_url: str | None = None
    mqtt_url: str | None = None
    api_url: str | None = None

    def describe(self) -> str:
        """One line: who, and where its services are."""
        urls = ", ".join(
            f"{name} {url}"
            for name, url in (
                ("API", self.api_url),
                ("database", self.database_url),
                ("MQTT", self.mqtt_url),
            )
            if url
        )
        return f"`wrenchlight {self.command}` (pid {self.pid})" + (
            f" serves {urls}" if urls else ""
        )


def _read_state(data_dir: Path) -> RunState | None:
    try:
        doc = json.loads((data_dir / STATE_FILE).read_text())
        return RunState(**doc)
    except (OSError, ValueError, TypeError):
        return None


def _lock_held(data_dir: Path) -> bool:
    """Whether some process holds the data directory's lock (never takes it for long)."""
    path = data_dir / LOCK_FILE
    if not path.exists():
        return False
    with path.open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def running(data_dir: Path) -> RunState | None:
    """The process running this data directory's services now, or None."""
    if not _lock_held(data_dir):
        return None
    # The holder writes its state right after taking the lock; a reader in between sees none.
    return _read_state(data_dir) or RunState(pid=0, command="(starting)", started_at="")


class DataDirLock:
    """Exclusive use of a data directory's embedded services by this process."""

    def __init__(self, data_dir: Path, command: str) -> None:
        self.data_dir = data_dir
        self.state = RunState(
            pid=os.getpid(),
            command=command,
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        self._file: IO[str] | None = None

    def acquire(self) -> DataDirLock:
        """Take the lock or raise DataDirBusy naming its holder; clear a crashed run's state."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        f = (self.data_dir / LOCK_FILE).open("a")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            holder = _read_state(self.data_dir)
            who = holder.describe() if holder else "another wrenchlight process"
            raise DataDirBusy(
                f"{who} on data directory {self.data_dir}; stop it first (Ctrl-C, or "
                f"kill {holder.pid if holder else 'it'}), or set WRENCHLIGHT_DATA_DIR to "
                "another directory"
            ) from None
        self._file = f
        self._write()
        return self

    def update(
        self,
        *,
        database_url: str | None = None,
        mqtt_url: str | None = None,
        api_url: str | None = None,
    ) -> None:
        """Record the URLs of the services as they come up (None keeps what is recorded)."""
        s = self.state
        self.state = replace(
            s,
            database_url=database_url or s.database_url,
            mqtt_url=mqtt_url or s.mqtt_url,
            api_url=api_url or s.api_url,
        )
        self._write()

    def _write(self) -> None:
        tmp = self.data_dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self.state)))
        os.replace(tmp, self.data_dir / STATE_FILE)

    def release(self) -> None:
        """Remove the state file, then let the lock go."""
        if self._file is None:
            return
        (self.data_dir / STATE_FILE).unlink(missing_ok=True)
        self._file.close()  # closing the file drops the flock
        self._file = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
