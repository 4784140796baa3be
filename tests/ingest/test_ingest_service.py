# SPDX-License-Identifier: MIT
"""``wrenchlight ingest`` as operators run it: worker processes, /metrics, JSON logs, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from ingest_support import Device, make_batch
from paho.mqtt.enums import CallbackAPIVersion
from private_servers import free_port
from prometheus_client.parser import text_string_to_metric_families

from telemetry import encode, topics
from telemetry.mqtt_url import MqttUrl

pytestmark = pytest.mark.slow
MESSAGES = "wl_ingest_messages_total"


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def service(
    db_url: str, quiet_broker: str, unique_id: str
) -> Iterator[tuple[subprocess.Popen, int]]:
    port = free_port()
    env = {
        **os.environ,
        "WRENCHLIGHT_DATABASE_URL": db_url,
        "WRENCHLIGHT_MQTT_URL": quiet_broker,
    }
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "wrenchlight"),
            "ingest",
            "--workers",
            "2",
            "--group",
            unique_id,
            "--client-prefix",
            unique_id,
            "--session-expiry",
            "0",
            "--metrics-port",
            str(port),
            "--json-logs",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.child_clock
def test_service_counts_in_metrics_and_stops_on_sigterm(
    service, conn, device: Device, quiet_broker: str, unique_id: str
):
    proc, port = service
    deadline = time.monotonic() + 60
    while True:  # both workers subscribed: each reported its database as up
        try:
            up = scrape(port).get(("wl_ingest_database_up", ()), None)
        except OSError:
            up = None
        if up is not None:
            break
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the service did not come up"
        time.sleep(0.2)
    url = MqttUrl.parse(quiet_broker)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{unique_id}-p", protocol=mqtt.MQTTv5
    )
    client.connect(url.host, url.port)
    client.loop_start()
    try:
        # The workers subscribe after their database is ready; until then the broker drops
        # what is published to the group. A status of the device that arrives proves the
        # group subscribed (its telemetry counts stay exact).
        deadline = time.monotonic() + 60
        while not sum(v for (name, _), v in scrape(port).items() if name == MESSAGES):
            probe = client.publish(
                topics.topic(device.device_id, "status"), b'{"state": "online"}', qos=1
            )
            probe.wait_for_publish(timeout=10)
            assert time.monotonic() < deadline, "the workers never subscribed"
            time.sleep(0.2)
        infos = [
            client.publish(
                topics.topic(device.device_id, "telemetry"),
                encode(make_batch(device.device_id, seq, n=5)),
                qos=1,
            )
            for seq in range(40)
        ]
        infos += [
            client.publish(topics.topic(device.device_id, "telemetry"), b"junk", qos=1),
            client.publish(topics.topic(device.device_id, "dtc"), b"{}", qos=1),
        ]
        for info in infos:
            info.wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()

    deadline = time.monotonic() + 60
    while True:
        metrics = scrape(port)
        if (
            metrics.get(("wl_ingest_batches_total", ()), 0) >= 40
            and sum(v for (name, _), v in metrics.items() if name == "wl_ingest_dead_letters_total")
            >= 2
            # and every message taken so far committed (a late probe included)
            and metrics.get(("wl_ingest_commit_lag_seconds_count", ()), 0)
            == sum(v for (name, _), v in metrics.items() if name == MESSAGES)
        ):
            break
        assert time.monotonic() < deadline, f"metrics never reached the load: {metrics}"
        time.sleep(0.2)
    assert metrics[("wl_ingest_batches_total", ())] == 40
    assert metrics[("wl_ingest_samples_total", ())] == 40 * 20
    assert metrics[("wl_ingest_dead_letters_total", (("reason", "undecodable payload"),))] == 2
    assert metrics[("wl_ingest_messages_total", (("kind", "telemetry"),))] == 41
    assert metrics[("wl_ingest_flush_seconds_count", ())] >= 1
    # Every message received was committed (a shared broker may add retained status messages
    # of other tests' devices: Mosquitto sends retained messages to shared subscriptions).
    received = sum(v for (name, _), v in metrics.items() if name == MESSAGES)
    assert received >= 42
    assert metrics[("wl_ingest_commit_lag_seconds_count", ())] == received
    assert conn.execute(
        "SELECT count(*) FROM batches WHERE device_id = %s", (device.device_id,)
    ).fetchone() == (40,)

    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert records, stderr
    assert all({"time", "level", "name", "message"} <= set(r) for r in records)
    assert any("stopped" in r["message"] for r in records)
