# SPDX-License-Identifier: MIT
"""The benchmark's MQTT side: a client for the broker URL, and a QoS 1 publisher."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from telemetry.mqtt_url import MqttUrl

# Publish QoS 1 with at most this many unacknowledged by the broker (less if it asks so).
PUBLISH_INFLIGHT = 1000


def mqtt_client(mqtt_url: str, client_id: str) -> tuple[mqtt.Client, MqttUrl]:
    """An MQTT v5 client for the broker at ``mqtt_url`` (credentials, TLS), not yet connected."""
    broker = MqttUrl.parse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set()
    return client, broker


class Publisher:
    """One QoS 1 publishing connection, honouring the broker's Receive Maximum."""

    def __init__(self, mqtt_url: str, client_id: str, *, timeout_s: float = 30.0) -> None:
        self._lock = threading.Lock()
        self.published = 0
        self.acknowledged = 0
        self._receive_max = PUBLISH_INFLIGHT
        self._connect(mqtt_url, client_id, PUBLISH_INFLIGHT, timeout_s)
        if self._receive_max < PUBLISH_INFLIGHT:
            # paho cannot lower its in-flight limit once connected: connect again with it.
            self._client.disconnect()
            self._client.loop_stop()
            self._connect(mqtt_url, client_id, max(1, self._receive_max), timeout_s)

    def _connect(self, mqtt_url: str, client_id: str, inflight: int, timeout_s: float) -> None:
        self._client, broker = mqtt_client(mqtt_url, client_id)
        self._client.max_inflight_messages_set(inflight)
        self._client.max_queued_messages_set(0)  # unbounded: the caller's window bounds it
        self._connected = threading.Event()
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish
        self._client.connect(broker.host, broker.port, keepalive=60, clean_start=True)
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self.close()
            raise TimeoutError(f"no connection to {broker} within {timeout_s} s")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            return
        self._receive_max = getattr(properties, "ReceiveMaximum", PUBLISH_INFLIGHT)
        self._connected.set()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            self.acknowledged += 1

    def publish(self, topic: str, payload: bytes) -> None:
        info = self._client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        self.published += 1

    def wait_acknowledged(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.acknowledged < self.published:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
