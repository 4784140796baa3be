# SPDX-License-Identifier: MIT
"""Transports on real file descriptors and sockets: STOPPED, latency, baud rate, TCP rules."""

import socket
import time
from collections.abc import Iterator

import pytest
import serial

from firmware_sim.adapter_faults import AdapterFaults
from firmware_sim.elm327 import Elm327
from firmware_sim.static_reader import StaticReader, running_state
from firmware_sim.transport import PtyDongle, TcpDongle
from firmware_sim.vehicle import EcuSnapshot

SNAP = EcuSnapshot("WDB2030461A123457", running_state(), True, ())


def elm(**kwargs: object) -> Elm327:
    return Elm327(StaticReader(SNAP), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def slow_pty() -> Iterator[serial.Serial]:
    with (
        PtyDongle(elm(latency_s=0.5)) as dongle,
        serial.Serial(dongle.path, 38400, timeout=3) as port,
    ):
        port.write(b"ATE0\r")
        port.read_until(b">")
        yield port


def timed(port: serial.Serial, cmd: bytes) -> tuple[bytes, float]:
    t0 = time.perf_counter()
    port.write(cmd + b"\r")
    reply = port.read_until(b">")
    return reply, time.perf_counter() - t0


def test_a_character_during_a_request_stops_it(slow_pty: serial.Serial) -> None:
    slow_pty.write(b"010D\r")
    time.sleep(0.05)
    t0 = time.perf_counter()
    slow_pty.write(b"X")  # any character interrupts, and is discarded
    assert slow_pty.read_until(b">") == b"STOPPED\r\r>"
    assert time.perf_counter() - t0 < 0.3
    assert timed(slow_pty, b"ATI")[0] == b"ELM327 v1.5\r\r>"  # the X did not stick


def test_latency_applies_to_obd_requests_not_at_commands() -> None:
    with PtyDongle(elm(latency_s=0.04)) as dongle, serial.Serial(dongle.path, timeout=3) as port:
        reply, took = timed(port, b"010D")
        assert reply == b"010D\r41 0D 50\r\r>" and took >= 0.04
        reply, took = timed(port, b"ATI")
        assert took < 0.04


def test_baud_rate_delays_the_reply_by_its_bytes() -> None:
    with PtyDongle(elm(), baud=9600) as dongle, serial.Serial(dongle.path, timeout=3) as port:
        reply, took = timed(port, b"0902")
        # 5 bytes in + the reply out, 10 bits each at 9600 bit/s.
        assert took >= (5 + len(reply)) * 10 / 9600 > 0.08
    with PtyDongle(elm()) as dongle, serial.Serial(dongle.path, timeout=3) as port:
        assert timed(port, b"0902")[1] < 0.05


def test_no_data_waits_the_timeout_when_timing_is_on() -> None:
    with PtyDongle(elm(latency_s=0.01)) as dongle, serial.Serial(dongle.path, timeout=3) as port:
        timed(port, b"ATST0A")  # 10 x 4 ms
        reply, took = timed(port, b"0110")
        assert reply.endswith(b"NO DATA\r\r>") and took >= 0.05


def tcp_ask(sock: socket.socket, cmd: bytes) -> bytes:
    sock.sendall(cmd + b"\r")
    buf = b""
    while not buf.endswith(b">"):
        try:
            chunk = sock.recv(1024)
        except ConnectionResetError:
            chunk = b""  # closed with our request unread: a reset, not a FIN
        if not chunk:
            break
        buf += chunk
    return buf


def hung_up(sock: socket.socket) -> bool:
    try:
        return sock.recv(10) == b""
    except ConnectionResetError:
        return True


def test_tcp_serves_one_client_at_a_time() -> None:
    with TcpDongle(elm(), port=0) as dongle:
        assert dongle.port > 0 and dongle.address.endswith(f":{dongle.port}")
        first = socket.create_connection((dongle.host, dongle.port), timeout=3)
        assert tcp_ask(first, b"ATI") == b"ATI\rELM327 v1.5\r\r>"
        second = socket.create_connection((dongle.host, dongle.port), timeout=3)
        assert hung_up(second)
        second.close()
        assert tcp_ask(first, b"010D") == b"010D\r41 0D 50\r\r>"
        first.close()
        # Served as soon as the dongle has seen the first one go: ask until it has.
        deadline = time.monotonic() + 5
        while True:
            with socket.create_connection((dongle.host, dongle.port), timeout=3) as third:
                try:
                    answer = tcp_ask(third, b"ATI")
                except OSError:  # hung up on before the question was written
                    answer = b""
            if answer or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert answer.endswith(b"ELM327 v1.5\r\r>")


def test_tcp_disconnect_fault_drops_the_link_for_a_while() -> None:
    faults = AdapterFaults()
    with TcpDongle(elm(faults=faults), port=0) as dongle:
        client = socket.create_connection((dongle.host, dongle.port), timeout=3)
        faults.disconnect(duration_s=0.5)
        assert tcp_ask(client, b"010D") == b""  # the adapter closed the connection
        client.close()
        refused = socket.create_connection((dongle.host, dongle.port), timeout=3)
        assert hung_up(refused)
        refused.close()
        time.sleep(0.6)
        with socket.create_connection((dongle.host, dongle.port), timeout=3) as back:
            assert tcp_ask(back, b"010D").endswith(b"41 0D 50\r\r>")


def test_pty_disconnect_fault_ignores_input() -> None:
    faults = AdapterFaults()
    with PtyDongle(elm(faults=faults)) as dongle, serial.Serial(dongle.path, timeout=0.3) as port:
        faults.disconnect(duration_s=0.5)
        port.write(b"ATI\r")
        assert port.read_until(b">") == b""
        time.sleep(0.5)
        port.timeout = 3
        assert timed(port, b"ATI")[0] == b"ATI\rELM327 v1.5\r\r>"
