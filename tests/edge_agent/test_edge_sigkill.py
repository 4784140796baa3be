# SPDX-License-Identifier: MIT
"""The agent killed with SIGKILL while publishing, then restarted: no sequence number missing."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from harness import wait_for
from paho.mqtt.enums import CallbackAPIVersion

from telemetry import decode, topics
from telemetry.mqtt_url import MqttUrl

WRENCHLIGHT = str(Path(sys.executable).parent / "wrenchlight")


@pytest.mark.slow
def test_sigkill_mid_publishing_loses_no_sequence_number(mqtt_url, unique_id, tmp_path):
    url = MqttUrl.parse(mqtt_url)
    seqs: list[int] = []
    lock = threading.Lock()

    def on_message(client, userdata, message):
        with lock:
            seqs.append(decode(message.payload).seq)

    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    watcher.on_message = on_message
    watcher.connect(url.host, url.port)
    watcher.subscribe(topics.topic(unique_id, "telemetry"), qos=1)
    watcher.loop_start()

    dongle = subprocess.Popen(
        [WRENCHLIGHT, "sim", "dongle", "--pty", "--speedup", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    pty = dongle.stdout.readline().strip()
    buffer = tmp_path / "edge.db"
    edge_cmd = [
        WRENCHLIGHT,
        "edge",
        "--adapter",
        pty,
        "--mqtt",
        mqtt_url,
        "--device-id",
        unique_id,
        "--buffer",
        str(buffer),
        "--batch-window-s",
        "1",
        "--json",
    ]
    try:
        first = subprocess.Popen(edge_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: len(seqs) >= 5, 60, "batches from the first agent")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = len(seqs)
        second = subprocess.Popen(
            edge_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        wait_for(lambda: len(set(seqs)) >= killed_at + 5, 60, "batches from the restarted agent")
        second.send_signal(signal.SIGTERM)
        out, _ = second.communicate(timeout=30)
    finally:
        for proc in (dongle,):
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=10)
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["unacknowledged"] == 0
    time.sleep(0.5)  # a window, not a wait: a late or repeated batch would arrive in it
    watcher.loop_stop()
    watcher.disconnect()
    received = sorted(set(seqs))
    assert received == list(range(len(received)))  # contiguous from 0 across the kill
    assert len(received) >= killed_at + 5
