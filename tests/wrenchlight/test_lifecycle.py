# SPDX-License-Identifier: MIT
"""The demo's processes: signals stop every child, one demo per data directory, crashes heal.

These run ``wrenchlight demo`` as a user would, on embedded services in a fresh data directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from wrenchlight.rundir import STATE_FILE, DataDirLock

WRENCHLIGHT = str(Path(sys.executable).parent / "wrenchlight")
SMALL = ["--vehicles", "2", "--days", "2", "--no-live"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRENCHLIGHT_")}
    return {**env, "WRENCHLIGHT_DATA_DIR": str(data_dir), "WRENCHLIGHT_API_PORT": "0"}


def _default_sigint() -> None:
    # A shell's background jobs inherit an ignored SIGINT; a terminal's Ctrl-C is not ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(data_dir: Path, *args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [WRENCHLIGHT, "demo", *args],
            env=_env(data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as in a terminal
            preexec_fn=_default_sigint,
        )


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _serving(data_dir: Path, proc: subprocess.Popen[bytes], log: Path) -> dict:
    def ready() -> bool:
        assert proc.poll() is None, log.read_text()
        return b"Serving the API" in log.read_bytes()

    _wait_for(ready, 180, "the demo to serve")
    return json.loads((data_dir / STATE_FILE).read_text())


def _postgres_on(data_dir: Path) -> list[psutil.Process]:
    pgdata = str((data_dir / "postgres").resolve())
    found = []
    for p in psutil.process_iter(["name", "cmdline"]):
        if p.info["name"] == "postgres" and pgdata in (p.info["cmdline"] or []):
            found.append(p)
    return found


def _assert_nothing_left(data_dir: Path, children: list[psutil.Process]) -> None:
    _wait_for(lambda: not any(c.is_running() for c in children), 30, "children to exit")
    assert _postgres_on(data_dir) == []
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert json.loads((data_dir / "postgres" / ".handle_pids.json").read_text()) == []
    assert not (data_dir / STATE_FILE).exists()
    with DataDirLock(data_dir, "test"):  # free again
        pass


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_every_child_and_leaves_no_server_or_pid_file(tmp_path, signum):
    data_dir, log = tmp_path / "data", tmp_path / "demo.log"
    proc = _start(data_dir, *SMALL, log=log)
    try:
        _serving(data_dir, proc, log)
        children = psutil.Process(proc.pid).children(recursive=True) + _postgres_on(data_dir)
        assert len(children) >= 2  # the broker, and PostgreSQL
        proc.send_signal(signum)
        proc.wait(60)
        _assert_nothing_left(data_dir, children)
    finally:
        _stop(proc)


def test_ctrl_c_while_the_fleet_drives_prints_no_broker_panic(tmp_path):
    data_dir, log = tmp_path / "data", tmp_path / "demo.log"
    proc = _start(data_dir, "--vehicles", "12", "--days", "30", "--no-live", log=log)
    try:
        _wait_for(lambda: b"publisher: connected" in log.read_bytes(), 180, "the fleet to drive")
        time.sleep(1.0)  # a second into the drive: the scenario (Ctrl-C mid-drive), not a wait
        children = psutil.Process(proc.pid).children(recursive=True) + _postgres_on(data_dir)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert proc.wait(90) == 128 + signal.SIGINT
        output = log.read_text()
        assert "panicked" not in output and "stack backtrace" not in output, output
        assert "Traceback" not in output, output
        _assert_nothing_left(data_dir, children)
    finally:
        _stop(proc)


def test_a_second_demo_on_the_data_directory_refuses_and_names_the_first(tmp_path):
    data_dir, log = tmp_path / "data", tmp_path / "demo.log"
    proc = _start(data_dir, *SMALL, log=log)
    try:
        state = _serving(data_dir, proc, log)
        second = subprocess.run(
            [WRENCHLIGHT, "demo", *SMALL, "--exit"],
            env=_env(data_dir),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert f"pid {proc.pid}" in lines[0] and state["api_url"] in lines[0]
        # The first demo's database is still there and still served.
        import psycopg

        with psycopg.connect(state["database_url"]) as conn:
            assert conn.execute("SELECT count(*) FROM vehicles").fetchone()[0] == 3
    finally:
        _stop(proc)


def test_a_killed_demo_s_server_is_reused_and_stopped_by_the_next_one(tmp_path):
    data_dir, log = tmp_path / "data", tmp_path / "demo.log"
    proc = _start(data_dir, *SMALL, log=log)
    try:
        _serving(data_dir, proc, log)
        orphan = _postgres_on(data_dir)
        proc.kill()
        proc.wait(30)
        assert orphan and all(p.is_running() for p in orphan)  # what a crash leaves
        again = subprocess.run(
            [WRENCHLIGHT, "demo", *SMALL, "--exit"],
            env=_env(data_dir),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert again.returncode == 0, again.stderr
        _assert_nothing_left(data_dir, orphan)
    finally:
        _stop(proc)
        for p in _postgres_on(data_dir):
            p.terminate()
