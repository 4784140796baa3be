# SPDX-License-Identifier: MIT
"""A flush never waits for messages the broker holds back until that flush is acknowledged."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import psycopg
import pytest
from ingest_support import Device, make_batch
from paho.mqtt.enums import CallbackAPIVersion

from ingest import IngestWorker
from ingest.window import MIN_WINDOW, SendWindow
from telemetry import encode, topics
from telemetry.mqtt_url import MqttUrl
from wrenchlight.embedded import EmbeddedBroker

# rumqttd sends a subscriber at most this many unacknowledged QoS 1 messages (a constant of
# its router), whatever Receive Maximum the worker announces.
RUMQTTD_WINDOW = 100


def test_the_flush_size_stands_until_a_stall_shows_a_window():
    window = SendWindow(flush_interval_s=0.2)
    assert window.flush_size(500) == 500
    # A fleet that trickles up to the deadline is quiet, not held back.
    window.observe(held=60, queued=0, timed_out=True, silent_s=0.01)
    # A message (or a short burst) then silence is a quiet fleet too.
    window.observe(held=MIN_WINDOW - 1, queued=0, timed_out=True, silent_s=0.2)
    # Messages queued behind the flush, or a flush ended by its size, show no window either.
    window.observe(held=100, queued=5, timed_out=True, silent_s=0.2)
    window.observe(held=500, queued=0, timed_out=False, silent_s=0.2)
    assert window.messages is None
    assert window.flush_size(500) == 500


def test_a_stall_sets_the_window_and_flushes_end_at_half_of_it():
    window = SendWindow(flush_interval_s=0.2)
    window.observe(held=100, queued=0, timed_out=True, silent_s=0.15)
    assert window.messages == 100
    assert window.flush_size(500) == 50
    assert window.flush_size(20) == 20  # never above the configured size


def test_a_window_seen_exceeded_grows():
    window = SendWindow(flush_interval_s=0.2)
    window.observe(held=40, queued=0, timed_out=True, silent_s=0.2)  # a burst, then quiet
    assert window.flush_size(500) == 20
    window.observe(held=20, queued=700, timed_out=False, silent_s=0.0)
    assert window.messages == 720
    assert window.flush_size(500) == 360


@pytest.fixture
def rumqttd() -> Iterator[str]:
    """A private embedded broker (rumqttd), whatever broker the other tests use."""
    broker = EmbeddedBroker()
    try:
        yield broker.start()
    finally:
        broker.stop()


def test_flushes_fill_while_their_predecessor_commits_on_the_embedded_broker(
    db_url: str, conn: psycopg.Connection, device: Device, rumqttd: str, unique_id: str
):
    n = 3 * RUMQTTD_WINDOW
    flushes: list[int] = []
    worker = IngestWorker(
        db_url,
        rumqttd,
        client_id=f"{unique_id}-w",
        group=unique_id,
        session_expiry_s=0,
        # Long, so the broker's stall is plain however loaded the machine is.
        flush_interval_s=1.0,
        on_commit=lambda outcomes, _at: flushes.append(len(outcomes)),
    )
    url = MqttUrl.parse(rumqttd)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{unique_id}-pub", protocol=mqtt.MQTTv5
    )
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    client.connect(url.host, url.port)
    client.loop_start()
    try:
        assert connected.wait(10)
        with worker:
            for seq in range(n):
                payload = encode(make_batch(device.device_id, seq, n=2))
                client.publish(topics.topic(device.device_id, "telemetry"), payload, qos=1)
            deadline = time.monotonic() + 60
            while worker.stats.batches < n:
                assert time.monotonic() < deadline, f"stored {worker.stats.batches} of {n}"
                time.sleep(0.05)
    finally:
        client.disconnect()
        client.loop_stop()
    assert sum(flushes) == n
    # The broker never sends more than its window; once a flush has waited out its interval
    # holding all of it, every later flush ends at half the window instead of waiting again.
    assert max(flushes) <= RUMQTTD_WINDOW
    learned = flushes.index(RUMQTTD_WINDOW)
    assert all(size <= RUMQTTD_WINDOW // 2 for size in flushes[learned + 1 :]), flushes
    stored = conn.execute(
        "SELECT count(*) FROM batches WHERE device_id = %s", (device.device_id,)
    ).fetchone()
    assert stored is not None and stored[0] == n
