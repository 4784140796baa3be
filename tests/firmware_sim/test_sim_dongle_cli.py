# SPDX-License-Identifier: MIT
"""``python -m firmware_sim dongle``: first stdout line is the address, serves until SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import serial

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def dongle(*args: str) -> Iterator[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "dongle", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
        text=True,
    ) as proc:
        try:
            yield proc.stdout.readline().strip()  # type: ignore[union-attr]
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=5) == 0


def ask(sock: socket.socket, cmd: bytes) -> bytes:
    sock.sendall(cmd + b"\r")
    buf = b""
    while not buf.endswith(b">"):
        buf += sock.recv(1024)
    return buf


def test_tcp_29bit_clone_with_injected_codes() -> None:
    with dongle("--tcp", "0", "--protocol", "7", "--dtc", "P0301,P0420,C0035", "--clone") as addr:
        host, port = addr.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            assert ask(sock, b"ATI") == b"ATI\rELM327 v1.5\r\r>"
            ask(sock, b"ATE0")
            ask(sock, b"ATH1")
            assert ask(sock, b"ATCAF0") == b"OK\r\r>"  # a clone ignores it
            # Count byte + 3 codes: a first frame of 8 bytes from the 29-bit engine address.
            assert ask(sock, b"03").startswith(b"18 DA F1 10 10 08 43 03 03 01 04 20\r")
            assert ask(sock, b"0101").startswith(b"18 DA F1 10 06 41 01 83 ")


def test_pty_iso9141_with_latency() -> None:
    with dongle("--pty", "--protocol", "3", "--latency-ms", "20", "--baud", "115200") as path:
        assert path.startswith("/dev/")
        with serial.Serial(path, 38400, timeout=3) as port:
            port.write(b"ATE0\r")
            port.read_until(b">")
            port.write(b"010D\r")
            assert port.read_until(b">").startswith(b"BUS INIT: ...OK\r41 0D ")


def test_rejects_bad_options() -> None:
    for args in (
        ["--pty", "--tcp", "1"],
        [],
        ["--pty", "--protocol", "9"],
        ["--pty", "--dtc", "X1"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "firmware_sim", "dongle", *args],
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            timeout=30,
        )
        assert done.returncode == 2, args
